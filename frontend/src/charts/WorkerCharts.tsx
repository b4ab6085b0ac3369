import { lazy, Suspense } from "react";
import { useStore } from "zustand";
import { historyKey, type HistoryStore } from "./history";
import { useWorkerHistory } from "./polling";

// uPlot (50 kB) loads with the first chart shown, not with the app.
const SeriesChart = lazy(() => import("./SeriesChart").then((m) => ({ default: m.SeriesChart })));

/**
 * WorkerCharts is a worker's last hour of lag and rate from store,
 * refreshed every 30 s while it is shown. Without Prometheus it shows
 * nothing: whoever owns the store says so once.
 */
export function WorkerCharts({ store, workerId }: { store: HistoryStore; workerId: number }) {
  useWorkerHistory(store, workerId);
  const lag = useStore(store, (s) => s.charts[historyKey(workerId, "lag")]);
  const rate = useStore(store, (s) => s.charts[historyKey(workerId, "rate")]);
  const error = useStore(store, (s) => s.errors[historyKey(workerId, "lag")] ?? s.errors[historyKey(workerId, "rate")]);
  const missing = useStore(store, (s) => s.missing);
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
