import { useCallback, useEffect, useState } from "react";
import { api, ApiError } from "../api/client";
import type { PipelineSummary } from "../api/types";

/** What the list says of a pipeline's workers, from the one GET /pipelines (its health field). */
export function listHealth(p: PipelineSummary): { text: string; tone: "ok" | "bad" | "idle" } {
  const h = p.health;
  if (h === undefined || h === null) return { text: "–", tone: "idle" };
  if (p.workers === 0) return { text: "no workers", tone: "idle" };
  if (h.deployed === 0) return { text: "not deployed", tone: "idle" };
  const of = h.deployed < p.workers ? ` (${h.deployed} of ${p.workers} deployed)` : "";
  return { text: `${h.healthy}/${h.deployed} healthy${of}`, tone: h.healthy >= h.deployed ? "ok" : "bad" };
}

export function PipelineList({ canCreate }: { canCreate: boolean }) {
  const [list, setList] = useState<PipelineSummary[] | null>(null);
  const [error, setError] = useState("");
  const load = useCallback(() => api.pipelines().then(setList).catch((e: ApiError) => setError(e.message)), []);
  useEffect(() => { void load(); }, [load]);

  async function remove(p: PipelineSummary) {
    if (!window.confirm(`Delete pipeline "${p.name}" and its ${p.workers} workers? Their Nomad jobs are stopped; the topics and their data stay.`)) return;
    try {
      await api.deletePipeline(p.id);
      setError("");
      await load();
    } catch (e) {
      setError(`Not deleted: ${(e as ApiError).message}`);
    }
  }

  return (
    <div className="page">
      <h2>Pipelines</h2>
      <p>
        <button className="primary" disabled={!canCreate} onClick={() => (window.location.hash = "#/pipelines/new")}>
          New pipeline
        </button>
      </p>
      {error && <div className="error" role="alert">{error}</div>}
      {list && (
        <table className="list">
          <thead><tr><th>Name</th><th>Workers</th><th>Health</th><th>Version</th><th>Updated</th><th /></tr></thead>
          <tbody>
            {list.map((p) => {
              const h = listHealth(p);
              return (
                <tr key={p.id} data-testid={`pipeline-${p.name}`}>
                  <td><a href={`#/pipelines/${p.id}`}>{p.name}</a></td>
                  <td>{p.workers}</td>
                  <td className={`health ${h.tone}`} data-testid="pipeline-health">{h.text}</td>
                  <td>{p.version}</td>
                  <td>{new Date(p.updated_at).toLocaleString()}</td>
                  <td><button className="danger" disabled={!canCreate} onClick={() => remove(p)} aria-label={`delete ${p.name}`}>Delete</button></td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </div>
  );
}
