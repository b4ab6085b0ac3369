import { useEffect, useState } from "react";
import { ApiError } from "../../api/client";
import { clustersApi, usesCluster, type ClusterDetail, type WorkerOfCluster } from "../../api/clusters";

/** #/clusters: every registered Kafka cluster with the workers that use it. */
export function ClustersPage({ canEdit }: { canEdit: boolean }) {
  const [list, setList] = useState<ClusterDetail[] | null>(null);
  const [workers, setWorkers] = useState<WorkerOfCluster[]>([]);
  const [error, setError] = useState("");
  useEffect(() => {
    clustersApi.list().then(setList).catch((e: ApiError) => setError(e.message));
    clustersApi.workers().then(setWorkers).catch(() => setWorkers([]));
  }, []);
  return (
    <div className="page" data-testid="clusters-page">
      <h2>Kafka clusters</h2>
      <p>
        <button className="primary" disabled={!canEdit} onClick={() => (window.location.hash = "#/clusters/new")}
          title={canEdit ? undefined : "editors and admins register clusters"}>
          Register a cluster
        </button>
      </p>
      {error && <div className="error" role="alert">{error}</div>}
      {list && list.length === 0 && <p className="status-line">No cluster registered yet.</p>}
      {list && list.length > 0 && (
        <table className="list" data-testid="clusters">
          <thead><tr><th>Name</th><th>Bootstrap servers</th><th>Workers using it</th><th>Registered</th></tr></thead>
          <tbody>
            {list.map((c) => {
              const ws = workers.filter((w) => usesCluster(w, c));
              return (
                <tr key={c.id} data-testid={`cluster-${c.name}`}>
                  <td><a href={`#/clusters/${c.id}`}>{c.name}</a></td>
                  <td className="mono">{c.bootstrap_servers.join(", ")}</td>
                  <td><WorkerList workers={ws} /></td>
                  <td title={c.created_at}>{new Date(c.created_at).toLocaleString()}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </div>
  );
}

/** The workers of a cluster, each linked to its pipeline when it has one; at most five named. */
export function WorkerList({ workers, all = false }: { workers: WorkerOfCluster[]; all?: boolean }) {
  if (workers.length === 0) return <span className="muted">none</span>;
  const shown = all ? workers : workers.slice(0, 5);
  return (
    <span data-testid="cluster-workers">
      <strong>{workers.length}</strong>:{" "}
      {shown.map((w, i) => (
        <span key={w.id}>
          {i > 0 && ", "}
          {w.pipeline_id !== null ? <a href={`#/pipelines/${w.pipeline_id}`}>{w.name}</a> : w.name}
        </span>
      ))}
      {shown.length < workers.length && <span className="muted"> and {workers.length - shown.length} more</span>}
    </span>
  );
}
