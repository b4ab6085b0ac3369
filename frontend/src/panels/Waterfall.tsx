import { useMemo, useState } from "react";
import type { Span, Trace } from "../api/types";
import { attributeRows, axisTicks, formatDuration, formatTick, rows, stageColor } from "./traces";

/**
 * Waterfall is one trace: a time axis, a bar per span (nested under its
 * parent, coloured by stage) with its duration, and the chosen span's
 * attributes as a table. It links to Jaeger only when the server names an
 * external Jaeger UI.
 */
export function Waterfall({ trace }: { trace: Trace }) {
  const [open, setOpen] = useState<Span | null>(null);
  const { rows: rs, totalMs } = useMemo(() => rows(trace.spans), [trace]);
  const services = useMemo(() => [...new Set(rs.map((r) => r.span.service))], [rs]);
  const ticks = axisTicks(totalMs);
  const step = ticks[1] ?? totalMs;
  const pct = (ms: number) => `${(ms / totalMs) * 100}%`;
  return (
    <div className="waterfall" data-testid="waterfall">
      <div className="status-line">
        trace {trace.trace_id.slice(0, 16)} · {formatDuration(totalMs * 1000)} · {trace.spans.length} spans · {services.join(" → ")}
        {trace.jaeger_url && <> · <a href={trace.jaeger_url} target="_blank" rel="noreferrer" data-testid="jaeger-link">open in Jaeger</a></>}
      </div>
      <div className="row axis" aria-hidden>
        <div className="name" />
        <div className="track">
          {ticks.map((t) => <span key={t} className="tick" style={{ left: pct(t) }}>{formatTick(t, step)}</span>)}
        </div>
        <div className="dur">duration</div>
      </div>
      {rs.map(({ span: s, depth, offsetMs }) => (
        <div key={s.span_id} className={`row${open?.span_id === s.span_id ? " open" : ""}`} onClick={() => setOpen(s)} title={`${s.service}: ${s.operation}`}>
          <div className="name" style={{ paddingLeft: depth * 12 }}>
            <span className="stage" style={{ background: stageColor(s.service, services) }} />{s.service}: {s.operation}
          </div>
          <div className="track">
            {ticks.map((t) => <span key={t} className="gridline" style={{ left: pct(t) }} />)}
            <div className={`bar ${s.status}`} style={{ left: pct(offsetMs), width: `max(2px, ${pct(s.duration_us / 1000)})`,
              background: s.status === "error" ? undefined : stageColor(s.service, services) }} />
          </div>
          <div className="dur" data-testid="span-duration">{formatDuration(s.duration_us)}</div>
        </div>
      ))}
      {open && <SpanDetails span={open} startMs={rs.find((r) => r.span.span_id === open.span_id)?.offsetMs ?? 0} />}
    </div>
  );
}

function SpanDetails({ span: s, startMs }: { span: Span; startMs: number }) {
  const fixed: [string, string][] = [
    ["span", s.span_id], ["parent", s.parent_span_id ?? "–"], ["stage", s.service], ["operation", s.operation],
    ["status", s.status], ["starts at", `+${formatDuration(startMs * 1000)}`], ["duration", formatDuration(s.duration_us)],
    ...s.links.map((l, i): [string, string] => [`link ${i + 1}`, `${l.trace_id.slice(0, 16)}/${l.span_id}`]),
  ];
  return (
    <table className="span-attributes" data-testid="span-attributes">
      <tbody>
        {fixed.map(([k, v]) => <tr key={k} className="fixed"><th>{k}</th><td>{v}</td></tr>)}
        {attributeRows(s.attributes).map(([k, v]) => <tr key={`a:${k}`}><th>{k}</th><td>{v}</td></tr>)}
      </tbody>
    </table>
  );
}
