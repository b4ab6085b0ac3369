import { useEffect, useState } from "react";
import { api, ApiError } from "../api/client";
import type { PipelineSummary } from "../api/types";

export function PipelineList({ canCreate }: { canCreate: boolean }) {
  const [list, setList] = useState<PipelineSummary[] | null>(null);
  const [error, setError] = useState("");
  useEffect(() => {
    api.pipelines().then(setList).catch((e: ApiError) => setError(e.message));
  }, []);
  return (
    <div className="page">
      <h2>Pipelines</h2>
      <p>
        <button className="primary" disabled={!canCreate} onClick={() => (window.location.hash = "#/pipelines/new")}>
          New pipeline
        </button>
      </p>
      {error && <div className="error">{error}</div>}
      {list && (
        <table className="list">
          <thead><tr><th>Name</th><th>Workers</th><th>Version</th><th>Updated</th></tr></thead>
          <tbody>
            {list.map((p) => (
              <tr key={p.id}>
                <td><a href={`#/pipelines/${p.id}`}>{p.name}</a></td>
                <td>{p.workers}</td>
                <td>{p.version}</td>
                <td>{new Date(p.updated_at).toLocaleString()}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
