import { useMemo, useState } from "react";
import { api, ApiError } from "../../api/client";
import type { WorkersOverview } from "../../api/types";
import { usePoll } from "../../usePoll";
import { isTestWorker, overviewState, rate } from "./format";
import "./workers.css";

/** How often the list is refreshed: one request for every worker. */
const EVERY_MS = 5000;

/**
 * WorkersPage lists every worker, in a pipeline or not, with its state,
 * instances, lag and rates, from one request (GET /workers/overview)
 * every 5 s. Workers of the end-to-end tests are hidden unless asked for.
 */
export function WorkersPage() {
  const [data, setData] = useState<WorkersOverview | null>(null);
  const [error, setError] = useState("");
  const [filter, setFilter] = useState("");
  const [showTests, setShowTests] = useState(false);
  usePoll(() => {
    api.workersOverview().then((d) => { setData(d); setError(""); }).catch((e: ApiError) => setError(e.message));
  }, EVERY_MS);

  const all = data?.workers ?? [];
  const hidden = all.filter(isTestWorker).length;
  const shown = useMemo(() => all.filter((w) => (showTests || !isTestWorker(w)) &&
    (!filter || `${w.name} ${w.pipeline_name ?? ""} ${w.function}`.toLowerCase().includes(filter.toLowerCase()))), [all, showTests, filter]);

  return (
    <div className="page" data-testid="workers-page">
      <h2>Workers</h2>
      <div className="actions">
        <input placeholder="filter by name, pipeline or function" aria-label="filter workers" value={filter}
          onChange={(e) => setFilter(e.target.value)} style={{ width: 280 }} />
        <label className="inline">
          <input type="checkbox" checked={showTests} aria-label="show test workers" onChange={(e) => setShowTests(e.target.checked)} />
          show test workers (e2e-…){hidden > 0 && !showTests ? `: ${hidden} hidden` : ""}
        </label>
      </div>
      {error && <div className="error">{error}</div>}
      {data?.warnings.map((w) => <div key={w} className="warnings">{w}</div>)}
      {data && shown.length === 0 && <p className="status-line">No workers{all.length > 0 ? " match" : " yet"}.</p>}
      {shown.length > 0 && (
        <table className="list" data-testid="workers-table">
          <thead>
            <tr>
              <th>Name</th><th>Pipeline</th><th>Function</th><th>State</th><th className="num">Healthy / desired</th>
              <th className="num">Lag</th><th className="num">In</th><th className="num">Out</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((w) => {
              const st = overviewState(w);
              return (
                <tr key={w.id} data-testid={`worker-row-${w.name}`}>
                  <td><a href={`#/workers/${w.id}`}>{w.name}</a></td>
                  <td>{w.pipeline_id ? <a href={`#/pipelines/${w.pipeline_id}`}>{w.pipeline_name ?? w.pipeline_id}</a> : <span className="muted">none</span>}</td>
                  <td>{w.function ? `${w.function} ${w.function_version}` : <span className="muted">none</span>}</td>
                  <td className={`health ${st.tone}`}>{st.text}</td>
                  <td className="num">{w.healthy === null ? "–" : `${w.healthy} / ${w.desired}`}</td>
                  <td className="num">{w.lag ?? "–"}</td>
                  <td className="num">{rate(w.in_per_sec)}</td>
                  <td className="num">{rate(w.out_per_sec)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </div>
  );
}
