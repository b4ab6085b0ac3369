import { WorkerCharts } from "../charts/WorkerCharts";
import { useEditorHistory } from "../editor/context";

/**
 * WorkerHistory is the panel's last hour of a worker's lag and rate, from
 * the editor's history store, refreshed every 30 s while the panel is
 * open. Without Prometheus it shows nothing: the canvas says so once, and
 * "Now" keeps the numbers.
 */
export function WorkerHistory({ workerId }: { workerId: number }) {
  return <WorkerCharts store={useEditorHistory()} workerId={workerId} />;
}
