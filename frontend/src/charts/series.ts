// The series JSON of GET /workers/{id}/series turned into what uPlot and
// the sparklines draw. Pure, so it is tested without a browser; uPlot is
// imported for its types only (it touches the DOM when loaded).
import type { AlignedData } from "uplot";
import type { Series, SeriesMetric, WorkerSeries } from "../api/types";

/** A chart ready to draw: one x array (unix seconds) and one y array per line, aligned. */
export interface ChartData {
  metric: SeriesMetric;
  unit: string;
  /** one per line, in the order of data[1..] */
  labels: string[];
  data: AlignedData;
  /** the window the chart spans, [from, to] in unix seconds: the whole range even when points start later */
  window: [number, number];
  /** points with a value, over all lines: 0 means "nothing to draw yet" */
  points: number;
}

/**
 * lineLabel names one series in a legend: rate's two are "in" and "out"
 * (the API labels only out with direction=out); others take the label
 * that tells them apart, or the metric's name.
 */
export function lineLabel(metric: SeriesMetric, labels: Record<string, string>): string {
  if (metric === "rate") return labels.direction === "out" ? "out" : "in";
  return labels.direction ?? labels.topic ?? metric.replace("_", " ");
}

// in before out; otherwise the order the API sent.
function ordered(metric: SeriesMetric, series: Series[]): Series[] {
  if (metric !== "rate") return series;
  return [...series].sort((a, b) => Number(a.labels.direction === "out") - Number(b.labels.direction === "out"));
}

/**
 * toChart aligns the series on the union of their timestamps, as uPlot
 * wants: a line without a point at some time gets null there, so it shows
 * a gap instead of a made-up value. Values that are not finite numbers
 * (Prometheus' NaN, a string) become null too.
 */
export function toChart(ws: WorkerSeries, nowSeconds: number): ChartData {
  const series = ordered(ws.metric, ws.series ?? []);
  const times = [...new Set(series.flatMap((s) => s.points.map((p) => p[0])))].sort((a, b) => a - b);
  const at = new Map(times.map((t, i) => [t, i]));
  let points = 0;
  const lines = series.map((s) => {
    const ys: (number | null)[] = new Array(times.length).fill(null);
    for (const [t, v] of s.points) {
      const n = typeof v === "number" ? v : Number(v);
      if (Number.isFinite(n)) {
        ys[at.get(t)!] = n;
        points++;
      }
    }
    return ys;
  });
  const to = Math.max(nowSeconds, times.at(-1) ?? 0);
  return {
    metric: ws.metric,
    unit: ws.unit,
    labels: series.map((s) => lineLabel(ws.metric, s.labels)),
    data: [times, ...lines] as AlignedData,
    window: [to - (ws.range_seconds || 3600), to],
    points,
  };
}

/** The last value of each line, null when a line has none. */
export function lastValues(c: ChartData): (number | null)[] {
  return c.data.slice(1).map((ys) => {
    for (let i = ys.length - 1; i >= 0; i--) if (ys[i] != null) return ys[i] as number;
    return null;
  });
}

/** clock writes unix seconds as the local time of day, 24-hour: "09:05". */
export function clock(t: number): string {
  const d = new Date(t * 1000);
  return `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
}

/** compact writes a value short enough for an axis or a node: 950, 12k, 3.4M, 3.5, 0.25, 1 (no ".0"). */
export function compact(v: number | null | undefined): string {
  if (v == null || !Number.isFinite(v)) return "–";
  const a = Math.abs(v);
  if (a >= 1e9) return `${(v / 1e9).toFixed(a >= 1e10 ? 0 : 1)}G`;
  if (a >= 1e6) return `${(v / 1e6).toFixed(a >= 1e7 ? 0 : 1)}M`;
  if (a >= 1e3) return `${(v / 1e3).toFixed(a >= 1e4 ? 0 : 1)}k`;
  if (a >= 10) return v.toFixed(0);
  return String(Number(v.toFixed(a >= 1 ? 1 : 2)));
}

/** legendValue writes a value next to a label that names its unit: seconds as ms below one second, others compact. */
export function legendValue(v: number | null | undefined, unit: string): string {
  if (v == null || !Number.isFinite(v)) return "–";
  if (unit === "seconds") return v < 1 ? `${(v * 1000).toFixed(0)} ms` : `${v.toFixed(2)} s`;
  return compact(v);
}

/**
 * sparkPath draws each line of a chart as an SVG path in a w×h box over
 * the chart's window, all lines on one y scale from 0 to the largest value
 * (so in and out compare). A gap in a line starts a new subpath; a point
 * alone between gaps gets a one-pixel stroke, so it shows.
 */
export function sparkPaths(c: ChartData, w: number, h: number): string[] {
  const [from, to] = c.window;
  const xs = c.data[0] as number[];
  const lines = c.data.slice(1) as (number | null)[][];
  const max = Math.max(0, ...lines.flatMap((ys) => ys.filter((y): y is number => y != null)));
  const x = (t: number) => ((t - from) / Math.max(to - from, 1)) * w;
  const y = (v: number) => (max > 0 ? h - (v / max) * h : h);
  return lines.map((ys) => {
    let d = "";
    let pen = false;
    ys.forEach((v, i) => {
      if (v == null) {
        pen = false;
        return;
      }
      d += `${pen ? "L" : "M"}${x(xs[i]).toFixed(1)},${y(v).toFixed(1)}`;
      if (!pen && ys[i + 1] == null) d += "h1";
      pen = true;
    });
    return d;
  });
}
