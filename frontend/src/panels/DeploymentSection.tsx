import { useEffect, useState } from "react";
import { api, type ApiError } from "../api/client";
import { useEditor, useFlash, useLive, useReadOnly } from "../editor/context";
import { useWorkerHealth } from "../editor/nodes/worker/useHealth";

interface Props {
  name: string;
  nodeId: string;
  /** the instances the graph asks for */
  instances: number;
  workerId: number | undefined;
  onTraces: (workerId: number) => void;
}

/** A saved worker's Nomad status, what can be done to it (deploy, stop, scale) and its traces. */
export function DeploymentSection({ name, nodeId, instances: wanted, workerId, onTraces }: Props) {
  const readOnly = useReadOnly();
  const dirty = useEditor((s) => s.dirty);
  const flash = useFlash();
  const health = useWorkerHealth(name);
  const deployment = useLive((l) => l.status[name]?.deployment);
  const allocations = useLive((l) => l.status[name]?.allocations);
  const [instances, setInstances] = useState(wanted);
  const [busy, setBusy] = useState(false);
  useEffect(() => setInstances(wanted), [nodeId]); // eslint-disable-line react-hooks/exhaustive-deps
  const canAct = !readOnly && workerId !== undefined && !dirty && !busy;

  async function act(what: string, f: () => Promise<unknown>) {
    setBusy(true);
    try {
      await f();
      flash(`${what}: accepted; the status follows in the panel.`);
    } catch (e) {
      flash(`${what} failed: ${(e as ApiError).message}`, "error");
    } finally {
      setBusy(false);
    }
  }

  return (
    <>
      <h3>Deployment</h3>
      {workerId === undefined && <div className="status-line">Save the pipeline to deploy this worker.</div>}
      <div className={`status-line health ${health.tone}`} data-testid="panel-health" data-tone={health.tone}>{health.text}</div>
      {deployment && <div className="status-line">Nomad deployment: {deployment.status} — {deployment.description}</div>}
      {allocations?.filter((a) => a.failed_reason).slice(0, 2).map((a) => (
        <div key={a.id} className="error">{a.id.slice(0, 8)}: {a.failed_reason}</div>))}
      <div className="actions">
        <button className="primary" disabled={!canAct} onClick={() => act("Deploy", () => api.deploy(workerId!))}>Deploy</button>
        <button disabled={!canAct} onClick={() => act("Stop", () => api.stop(workerId!))}>Stop</button>
        <input type="number" min={1} max={64} value={instances} style={{ width: 60 }} disabled={readOnly} aria-label="instances"
          onChange={(e) => setInstances(Number(e.target.value))} />
        <button disabled={!canAct} onClick={() => act("Scale", () => api.scale(workerId!, instances))}>Scale</button>
        <button disabled={workerId === undefined} onClick={() => onTraces(workerId!)}>Traces</button>
      </div>
    </>
  );
}
