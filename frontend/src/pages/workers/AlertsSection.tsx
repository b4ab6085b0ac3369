import { useMemo, useState } from "react";
import { api, ApiError } from "../../api/client";
import type { Alert } from "../../api/types";
import { groupAlerts, when } from "../../alerts/order";
import { ALERTS_EVERY_MS } from "../../alerts/store";
import { usePoll } from "../../usePoll";

/** AlertsSection is the worker's alerts from Alertmanager, firing first, refreshed as the Alerts page is. */
export function AlertsSection({ worker }: { worker: string }) {
  const [alerts, setAlerts] = useState<Alert[] | null>(null);
  const [error, setError] = useState("");
  usePoll(() => {
    api.alerts("all", worker, 20).then((a) => { setAlerts(a); setError(""); }).catch((e: ApiError) => setError(e.message));
  }, ALERTS_EVERY_MS, worker);
  const g = useMemo(() => groupAlerts(alerts ?? []), [alerts]);
  const now = Date.now();
  return (
    <div className="card" data-testid="worker-alerts-section">
      <h3>Alerts</h3>
      {error && <div className="error">{error}</div>}
      {alerts?.length === 0 && <div className="status-line">No alerts about this worker.</div>}
      {[...g.firing, ...g.resolved].map((a) => (
        <div key={a.id} className={a.status === "firing" ? "alert-line" : "status-line"} title={a.description || undefined}>
          <span className={`state ${a.status}`}>{a.status}</span>{" "}
          <span className={`severity ${a.severity.toLowerCase()}`}>{a.severity || "–"}</span> <strong>{a.name}</strong> {when(a, now)}
          {a.summary && <div>{a.summary}</div>}
        </div>
      ))}
      <a href="#/alerts">all alerts</a>
    </div>
  );
}
