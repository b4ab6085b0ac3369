import { memo } from "react";
import { compact, lastValues, sparkPaths, type ChartData } from "./series";

const COLORS = ["#1f5fa8", "#2f7d32", "#a86b00"];
const W = 96;
const H = 16;

/**
 * Sparkline is a chart too small for axes: its lines over the window as
 * SVG paths (one DOM node each, cheap for a hundred nodes) and the last
 * value of each, e.g. "lag ▁▂▅ 1.2k" or "in/out ▁▂▃ 4.1/3.9". The title
 * names the window and unit for a hover.
 */
export const Sparkline = memo(function Sparkline({ label, chart }: { label: string; chart: ChartData }) {
  const paths = sparkPaths(chart, W, H);
  const last = lastValues(chart).map(compact).join("/");
  return (
    <div className="sparkline" title={`${chart.labels.join(", ")} over the last hour, ${chart.unit}`}>
      <span className="spark-label">{label}</span>
      <svg width={W} height={H} viewBox={`0 -1 ${W} ${H + 2}`} aria-hidden>
        {paths.map((d, i) => d && <path key={i} d={d} fill="none" stroke={COLORS[i % COLORS.length]} strokeWidth={1.2} />)}
      </svg>
      <span className="spark-value">{last}</span>
    </div>
  );
});
