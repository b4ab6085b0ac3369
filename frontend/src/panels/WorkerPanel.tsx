import { useEffect, useState } from "react";
import { api, ApiError, fieldErrors } from "../api/client";
import type { FunctionVersion, WorkerSettings } from "../api/types";
import { useEditor, useLive, useReadOnly } from "../editor/context";
import { healthOf } from "../editor/nodes/worker/health";
import type { WorkerNode } from "../pipeline/model";
import { AutoscaleFields } from "./AutoscaleFields";
import { WorkerAlerts } from "./WorkerAlerts";
import { WorkerHistory } from "./WorkerHistory";
import { WorkerSettingsForm } from "./WorkerSettingsForm";

interface Props {
  nodeId: string;
  saveError: ApiError | null;
  onTraces: (workerId: number) => void;
  flash: (msg: string) => void;
}

export function WorkerPanel({ nodeId, saveError, onTraces, flash }: Props) {
  const readOnly = useReadOnly();
  const node = useEditor((s) => s.nodes.find((n) => n.id === nodeId)) as WorkerNode;
  const index = useEditor((s) => s.nodes.filter((n) => n.type === "worker").findIndex((n) => n.id === nodeId));
  const update = useEditor((s) => s.updateSettings);
  const dirty = useEditor((s) => s.dirty);
  const workerId = useEditor((s) => s.workerIds[node?.data.name ?? ""]);
  const live = useLive();
  const [fns, setFns] = useState<FunctionVersion[]>([]);
  const [instances, setInstances] = useState(1);
  const [busy, setBusy] = useState(false);
  useEffect(() => { api.functions().then(setFns).catch(() => setFns([])); }, []);
  useEffect(() => {
    setInstances(node?.data.settings.instances ?? 1);
  }, [nodeId]); // eslint-disable-line react-hooks/exhaustive-deps
  if (!node) return null;
  const st: WorkerSettings = node.data.settings;
  const errs = saveError ? fieldErrors(saveError, index) : {};
  const set = (patch: WorkerSettings) => update(nodeId, patch);
  const status = live.status[node.data.name];
  const metrics = live.metrics[node.data.name];
  const health = healthOf(status, metrics);
  const canAct = !readOnly && workerId !== undefined && !dirty && !busy;

  async function act(what: string, f: () => Promise<unknown>) {
    setBusy(true);
    try {
      await f();
      flash(`${what}: accepted; status follows below.`);
    } catch (e) {
      flash(`${what} failed: ${(e as ApiError).message}`);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div data-testid="worker-panel">
      <h3>{node.data.name}{workerId !== undefined && <> <a href={`#/workers/${workerId}`} style={{ fontSize: 12, fontWeight: "normal" }}>worker page</a></>}</h3>
      <WorkerAlerts worker={node.data.name} />
      <WorkerSettingsForm name={node.data.name} value={st} functions={fns} readOnly={readOnly} errors={errs} onChange={set}
        resetKey={nodeId} />
      <AutoscaleFields value={st.autoscale} readOnly={readOnly} errors={errs} onChange={(a) => set({ autoscale: a })} />

      <h3>Deployment</h3>
      {workerId === undefined && <div className="status-line">Save the pipeline to deploy this worker.</div>}
      <div className={`status-line health ${health.tone}`} data-testid="panel-health">{health.text}</div>
      {status?.deployment && <div className="status-line">Nomad deployment: {status.deployment.status} — {status.deployment.description}</div>}
      {status?.allocations.filter((a) => a.failed_reason).slice(0, 2).map((a) => (
        <div key={a.id} className="error">{a.id.slice(0, 8)}: {a.failed_reason}</div>))}
      <div style={{ display: "flex", gap: 6, flexWrap: "wrap" }}>
        <button className="primary" disabled={!canAct} onClick={() => act("Deploy", () => api.deploy(workerId))}>Deploy</button>
        <button disabled={!canAct} onClick={() => act("Stop", () => api.stop(workerId))}>Stop</button>
        <input type="number" min={1} max={64} value={instances} style={{ width: 60 }} disabled={readOnly} aria-label="instances"
          onChange={(e) => setInstances(Number(e.target.value))} />
        <button disabled={!canAct} onClick={() => act("Scale", () => api.scale(workerId, instances))}>Scale</button>
        <button disabled={workerId === undefined} onClick={() => onTraces(workerId)}>Traces</button>
      </div>
      {metrics && (
        <div data-testid="metrics">
          <h3>Now</h3>
          <div className="status-line" title={metrics.throughput.source === "prometheus" ? "rates from Prometheus" : "rates sampled by the API server"}>
            lag {metrics.lag.total} · in {metrics.throughput.in_per_sec.toFixed(1)}/s · out {metrics.throughput.out_per_sec.toFixed(1)}/s
          </div>
          <div className="status-line">pending joins {metrics.pending_aggregates ?? "–"} · expired {metrics.expired} · dead-lettered {metrics.dead_lettered}</div>
          {metrics.errors.map((e) => <div key={e.instance} className="error">{e.instance.slice(0, 8)}: {e.message}</div>)}
        </div>
      )}
      {workerId !== undefined && <WorkerHistory workerId={workerId} />}
    </div>
  );
}
