import { useEffect, useState } from "react";
import { api, ApiError } from "../../api/client";
import type { Worker, WorkerMetrics, WorkerStatus } from "../../api/types";
import { healthOf } from "../../editor/nodes/worker/health";
import { ConfirmDialog } from "./ConfirmDialog";

interface Props {
  worker: Worker;
  status: WorkerStatus | null;
  metrics: WorkerMetrics | null;
  readOnly: boolean;
  /** after an action: what to tell the user, and whether the worker changed */
  done: (message: string) => void;
}

/** WorkerHeader names the worker, says how it is, and deploys, stops, scales or deletes it. */
export function WorkerHeader({ worker: w, status, metrics, readOnly, done }: Props) {
  const [busy, setBusy] = useState(false);
  const [instances, setInstances] = useState(w.instances ?? 1);
  const [deleting, setDeleting] = useState(false);
  useEffect(() => setInstances(w.instances ?? 1), [w.instances]);
  const health = healthOf({ saved: true, loaded: true, status: status ?? undefined, metrics: metrics ?? undefined });
  const autoscaled = w.autoscale?.enabled === true;

  async function act(what: string, f: () => Promise<unknown>) {
    setBusy(true);
    try {
      await f();
      done(`${what}: accepted.`);
    } catch (e) {
      done(`${what} failed: ${(e as ApiError).message}`);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="card" data-testid="worker-head">
      <div className="worker-head">
        <h2>{w.name}</h2>
        <span className={`health ${health.tone}`} data-testid="worker-health">{health.text}</span>
        <span className="muted">
          {w.pipeline_id ? <>in <a href={`#/pipelines/${w.pipeline_id}`}>pipeline {w.pipeline_id}</a></> : "outside any pipeline"}
          {" · "}{w.function ? `${w.function} ${w.function_version}` : "no function"}
          {" · "}config version {w.config_version} · desired {w.desired_state}
        </span>
      </div>
      <div className="muted">
        reads {w.input_topics.join(", ")}{w.output_topics.length > 0 && <> · writes {w.output_topics.join(", ")}</>} · {w.kafka_bootstrap_server}
      </div>
      {status?.deployment && <div className="status-line">Nomad deployment: {status.deployment.status} — {status.deployment.description}</div>}
      {status?.placement_failures.map((f) => <div key={f} className="error">{f}</div>)}
      <div className="actions">
        <button className="primary" disabled={readOnly || busy} onClick={() => act("Deploy", () => api.deploy(w.id))}>Deploy</button>
        <button disabled={readOnly || busy} onClick={() => act("Stop", () => api.stop(w.id))}>Stop</button>
        <input type="number" min={1} max={64} value={instances} disabled={readOnly || autoscaled} aria-label="instances"
          onChange={(e) => setInstances(Number(e.target.value))} />
        <button disabled={readOnly || busy || autoscaled} title={autoscaled ? "autoscaled: turn autoscaling off to scale by hand" : undefined}
          onClick={() => act("Scale", () => api.scale(w.id, instances))}>Scale</button>
        {!w.pipeline_id && <button disabled={readOnly || busy} onClick={() => setDeleting(true)}>Delete…</button>}
      </div>
      {deleting && (
        <ConfirmDialog title={`Delete worker ${w.name}?`} confirm="Delete" busy={busy} onCancel={() => setDeleting(false)}
          onConfirm={() => act("Delete", async () => {
            await api.deleteWorker(w.id);
            window.location.hash = "#/workers";
          })}>
          <p>Its Nomad job is stopped and its settings are deleted; its config versions stay in the history. Its topics and consumer group are left as they are.</p>
        </ConfirmDialog>
      )}
    </div>
  );
}
