import { memo, useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { clock, compact, lastValues, legendValue, type ChartData } from "./series";

/** Line colours, in the order of a chart's lines: the UI's blue, then green and amber. */
const COLORS = ["#1f5fa8", "#2f7d32", "#a86b00", "#8e44ad"];

interface Props {
  title: string;
  chart: ChartData;
  height?: number;
  testId?: string;
}

// current() is read on every redraw, so a refresh moves the hour along
// without a new uPlot; away from the cursor the legend shows the last values.
function options(p: Props, width: number, current: () => ChartData): uPlot.Options {
  const { chart } = p;
  return {
    title: p.title,
    width,
    height: p.height ?? 130,
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: true, range: () => current().window }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
    series: [
      { label: "at", value: (_u, t) => (t == null ? "now" : clock(t)) },
      ...chart.labels.map((label, i): uPlot.Series => ({
        label: `${label} (${chart.unit})`,
        stroke: COLORS[i % COLORS.length],
        width: 1.5,
        spanGaps: false,
        value: (_u, v, _s, idx) => legendValue(idx == null ? lastValues(current())[i] : v, chart.unit),
      })),
    ],
    axes: [
      { size: 24, font: "10px system-ui", ticks: { size: 4 }, values: (_u, vals) => vals.map(clock) },
      { size: 44, font: "10px system-ui", ticks: { size: 4 }, values: (_u, vals) => vals.map(compact) },
    ],
  };
}

/**
 * SeriesChart draws a ChartData with uPlot, on a canvas as wide as its
 * container: it follows the container's width, keeps its uPlot across
 * refreshes (setData only) and destroys it on unmount. A new set of lines
 * or unit builds a new one.
 */
export const SeriesChart = memo(function SeriesChart(p: Props) {
  const el = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const current = useRef(p.chart);
  current.current = p.chart;
  const shape = `${p.title}|${p.chart.unit}|${p.chart.labels.join(",")}|${p.height}`;

  useEffect(() => {
    const div = el.current!;
    const u = new uPlot(options(p, Math.max(div.clientWidth, 100), () => current.current), p.chart.data, div);
    plot.current = u;
    const ro = new ResizeObserver(() => {
      if (div.clientWidth > 0 && div.clientWidth !== u.width) u.setSize({ width: div.clientWidth, height: p.height ?? 130 });
    });
    ro.observe(div);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [shape]); // eslint-disable-line react-hooks/exhaustive-deps

  useEffect(() => {
    const u = plot.current;
    if (u && u.data !== p.chart.data) u.setData(p.chart.data);
  }, [p.chart]);

  // uPlot owns the inner div; React only the overlay next to it.
  return (
    <div className="series-chart" data-testid={p.testId} data-points={p.chart.points}>
      <div ref={el} />
      {p.chart.points === 0 && <div className="chart-empty">no data in the last hour</div>}
    </div>
  );
});
