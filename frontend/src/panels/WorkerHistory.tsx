import { lazy, Suspense } from "react";
import { historyKey } from "../charts/history";
import { useWorkerHistory } from "../charts/polling";
import { useEditorHistory, useHistory } from "../editor/context";

// uPlot (50 kB) loads with the first panel that charts, not with the app.
const SeriesChart = lazy(() => import("../charts/SeriesChart").then((m) => ({ default: m.SeriesChart })));

/**
 * WorkerHistory is the panel's last hour of a worker's lag and rate,
 * refreshed every 30 s while the panel is open. Without Prometheus it
 * shows nothing: the canvas says so once, and "Now" keeps the numbers.
 */
export function WorkerHistory({ workerId }: { workerId: number }) {
  useWorkerHistory(useEditorHistory(), workerId);
  const lag = useHistory((s) => s.charts[historyKey(workerId, "lag")]);
  const rate = useHistory((s) => s.charts[historyKey(workerId, "rate")]);
  const error = useHistory((s) => s.errors[historyKey(workerId, "lag")] ?? s.errors[historyKey(workerId, "rate")]);
  const missing = useHistory((s) => s.missing);
  if (missing) return null;
  return (
    <div data-testid="history">
      <h3>Last hour</h3>
      {error && <div className="error">History unavailable: {error}</div>}
      {!lag && !rate && !error && <div className="status-line">loading…</div>}
      <Suspense fallback={<div className="status-line">loading charts…</div>}>
        {lag && <SeriesChart title="lag" chart={lag} testId="chart-lag" />}
        {rate && <SeriesChart title="rate" chart={rate} testId="chart-rate" />}
      </Suspense>
    </div>
  );
}
