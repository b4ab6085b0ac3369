import { useEffect, useMemo, useState } from "react";
import { api, ApiError } from "../../api/client";
import type { Alert } from "../../api/types";
import { groupAlerts, when } from "../../alerts/order";
import { ALERTS_EVERY_MS } from "../../alerts/store";
import { usePoll } from "../../usePoll";

type State = "all" | "firing" | "resolved";

/** The Alerts page: what Alertmanager sent, firing first, refreshed every 15 s. */
export function AlertsPage() {
  const [state, setState] = useState<State>("all");
  const [alerts, setAlerts] = useState<Alert[] | null>(null);
  const [error, setError] = useState("");
  const [pipelineOf, setPipelineOf] = useState<Record<string, number>>({});
  const [now, setNow] = useState(Date.now());

  usePoll(() => {
    api.alerts(state).then((a) => { setAlerts(a); setError(""); setNow(Date.now()); })
      .catch((e: ApiError) => setError(e.message));
  }, ALERTS_EVERY_MS, state);

  // Which pipeline a worker belongs to, for the links; a worker not found is shown without one.
  useEffect(() => {
    api.workers().then((ws) => setPipelineOf(Object.fromEntries(
      ws.filter((w) => w.pipeline_id !== null).map((w) => [w.name, w.pipeline_id as number])))).catch(() => setPipelineOf({}));
  }, []);

  const groups = useMemo(() => groupAlerts(alerts ?? []), [alerts]);
  const row = (a: Alert) => (
    <tr key={a.id} className={`alert ${a.status}`} data-testid={`alert-${a.fingerprint}`}>
      <td><span className={`state ${a.status}`}>{a.status}</span></td>
      <td title={a.description || undefined}>
        {a.generator_url ? <a href={a.generator_url} target="_blank" rel="noreferrer" title="the rule's expression in Prometheus">{a.name}</a> : a.name}
      </td>
      <td><span className={`severity ${a.severity.toLowerCase()}`}>{a.severity || "–"}</span></td>
      <td>{a.worker ? (pipelineOf[a.worker] ? <a href={`#/pipelines/${pipelineOf[a.worker]}`}>{a.worker}</a> : a.worker) : "–"}</td>
      <td title={a.description || undefined}>{a.summary}</td>
      <td title={`${a.starts_at}${a.ends_at ? ` – ${a.ends_at}` : ""}`}>{when(a, now)}</td>
    </tr>
  );
  const section = (title: string, list: Alert[]) => list.length > 0 && (
    <tbody>
      <tr className="group"><th colSpan={6}>{title} ({list.length})</th></tr>
      {list.map(row)}
    </tbody>
  );

  return (
    <div className="page" data-testid="alerts-page">
      <h2>Alerts</h2>
      <p>
        <label>state{" "}
          <select aria-label="alert state" value={state} onChange={(e) => { setAlerts(null); setState(e.target.value as State); }}>
            <option value="all">firing and resolved</option>
            <option value="firing">firing</option>
            <option value="resolved">resolved</option>
          </select>
        </label>
      </p>
      {error && <div className="error">{error}</div>}
      {alerts && alerts.length === 0 && <p className="status-line">No {state === "all" ? "" : `${state} `}alerts.</p>}
      {alerts && alerts.length > 0 && (
        <table className="list alerts">
          <thead><tr><th>State</th><th>Name</th><th>Severity</th><th>Worker</th><th>Summary</th><th>Since / ended</th></tr></thead>
          {section("Firing", groups.firing)}
          {section("Resolved", groups.resolved)}
        </table>
      )}
    </div>
  );
}
