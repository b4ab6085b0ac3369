// The arithmetic of the traces drawer: durations, the time axis, and the
// nesting of spans. Pure, so it is tested without a browser.
import type { Span } from "../api/types";

/** formatDuration: 850 µs, 12.3 ms, 4.56 s. */
export function formatDuration(us: number): string {
  if (us < 1000) return `${Math.round(us)} µs`;
  if (us < 1_000_000) return `${(us / 1000).toFixed(us < 10_000 ? 2 : 1)} ms`;
  return `${(us / 1_000_000).toFixed(2)} s`;
}

/** formatStart: the time of day to the millisecond, with the date when it is not today's. */
export function formatStart(iso: string, now = new Date()): string {
  const d = new Date(iso);
  const time = d.toLocaleTimeString(undefined, { hour12: false }) + "." + String(d.getMilliseconds()).padStart(3, "0");
  return d.toDateString() === now.toDateString() ? time : `${d.toLocaleDateString()} ${time}`;
}

/**
 * axisTicks are the axis' marks over [0, totalMs]: a round step (1, 2 or
 * 5 times a power of ten) giving at most maxTicks intervals, from 0.
 */
export function axisTicks(totalMs: number, maxTicks = 8): number[] {
  if (!(totalMs > 0)) return [0];
  const raw = totalMs / maxTicks;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let t = 0; t <= totalMs + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

/** formatTick: an axis label, in the unit that suits the step. */
export function formatTick(ms: number, stepMs: number): string {
  if (stepMs >= 1000) return `${(ms / 1000).toFixed(stepMs >= 10_000 ? 0 : 1)} s`;
  if (stepMs >= 1) return `${Number(ms.toFixed(stepMs >= 10 ? 0 : 1))} ms`;
  return `${Math.round(ms * 1000)} µs`;
}

export interface Row {
  span: Span;
  depth: number;
  /** from the trace's start, in ms */
  offsetMs: number;
}

/**
 * rows orders the spans as a tree, each after its parent (children by
 * start), with its depth; a span whose parent is not in the trace is a
 * root. Offsets are from the earliest start.
 */
export function rows(spans: Span[]): { rows: Row[]; totalMs: number } {
  if (spans.length === 0) return { rows: [], totalMs: 0 };
  const start = (s: Span) => Date.parse(s.start);
  const t0 = Math.min(...spans.map(start));
  const end = Math.max(...spans.map((s) => start(s) + s.duration_us / 1000));
  const ids = new Set(spans.map((s) => s.span_id));
  const children = new Map<string, Span[]>();
  const roots: Span[] = [];
  for (const s of [...spans].sort((a, b) => start(a) - start(b))) {
    if (s.parent_span_id && ids.has(s.parent_span_id) && s.parent_span_id !== s.span_id) {
      children.set(s.parent_span_id, [...(children.get(s.parent_span_id) ?? []), s]);
    } else roots.push(s);
  }
  const out: Row[] = [];
  const seen = new Set<string>();
  const walk = (s: Span, depth: number) => {
    if (seen.has(s.span_id)) return; // a cycle in broken data
    seen.add(s.span_id);
    out.push({ span: s, depth, offsetMs: start(s) - t0 });
    for (const c of children.get(s.span_id) ?? []) walk(c, depth + 1);
  };
  roots.forEach((r) => walk(r, 0));
  return { rows: out, totalMs: Math.max(end - t0, 0.001) };
}

/** The attributes of a span as table rows, by key; objects as JSON. */
export function attributeRows(attrs: Record<string, unknown>): [string, string][] {
  return Object.keys(attrs).sort().map((k) => {
    const v = attrs[k];
    return [k, typeof v === "string" ? v : JSON.stringify(v)];
  });
}

const PALETTE = ["#1f5fa8", "#2f7d32", "#a86b00", "#7b3fa0", "#00838f", "#c2185b", "#5d4037"];

/** stageColor gives each stage (service) of a trace its own colour, in the order they appear. */
export function stageColor(service: string, services: string[]): string {
  const i = services.indexOf(service);
  return PALETTE[(i < 0 ? 0 : i) % PALETTE.length];
}
