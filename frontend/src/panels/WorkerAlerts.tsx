import { useMemo } from "react";
import { firingFor, when } from "../alerts/order";
import { useFiring } from "../alerts/store";

/** WorkerAlerts lists a worker's firing alerts in its panel; nothing when there are none. */
export function WorkerAlerts({ worker }: { worker: string }) {
  const all = useFiring((s) => s.alerts);
  const mine = useMemo(() => firingFor(all, worker), [all, worker]);
  if (mine.length === 0) return null;
  const now = Date.now();
  return (
    <div data-testid="worker-alerts">
      <h3>Firing alerts</h3>
      {mine.map((a) => (
        <div key={a.id} className="alert-line" title={a.description || undefined}>
          <span className={`severity ${a.severity.toLowerCase()}`}>{a.severity}</span> <strong>{a.name}</strong> {when(a, now)}
          {a.summary && <div>{a.summary}</div>}
        </div>
      ))}
      <a href="#/alerts">all alerts</a>
    </div>
  );
}
