import { ApiError, fieldErrors } from "../api/client";
import { useEditor, useReadOnly } from "../editor/context";
import { nodeById, type WorkerData } from "../pipeline/model";
import { DeploymentSection } from "./DeploymentSection";
import { NowMetrics } from "./NowMetrics";
import { WorkerAlerts } from "./WorkerAlerts";
import { WorkerHistory } from "./WorkerHistory";
import { WorkerSettingsForm } from "./WorkerSettingsForm";

interface Props {
  nodeId: string;
  saveError: ApiError | null;
  onTraces: (workerId: number) => void;
}

/**
 * The selected worker: its settings, its deployment and its numbers. It
 * selects the worker's data, not its node, so dragging the worker does
 * not re-render the panel.
 */
export function WorkerPanel({ nodeId, saveError, onTraces }: Props) {
  const readOnly = useReadOnly();
  const data = useEditor((s) => {
    const n = nodeById(s.nodes, nodeId);
    return n?.type === "worker" ? (n.data as WorkerData) : undefined;
  });
  const index = useEditor((s) => s.nodes.filter((n) => n.type === "worker").findIndex((n) => n.id === nodeId));
  const update = useEditor((s) => s.updateSettings);
  const showTestNames = useEditor((s) => s.showTestNames);
  const workerId = useEditor((s) => (data ? s.workerIds[data.name] : undefined));
  if (!data) return null;
  const errs = saveError ? fieldErrors(saveError, index) : {};
  return (
    <div data-testid="worker-panel">
      <h3>{data.name}{workerId !== undefined && <> <a href={`#/workers/${workerId}`} style={{ fontSize: 12, fontWeight: "normal" }}>worker page</a></>}</h3>
      <WorkerAlerts worker={data.name} />
      <WorkerSettingsForm nodeId={nodeId} name={data.name} settings={data.settings} readOnly={readOnly} errors={errs}
        onChange={(patch) => update(nodeId, patch)} showTestNames={showTestNames} />
      <DeploymentSection name={data.name} nodeId={nodeId} instances={data.settings.instances ?? 1} workerId={workerId} onTraces={onTraces} />
      <NowMetrics name={data.name} />
      {workerId !== undefined && <WorkerHistory workerId={workerId} />}
    </div>
  );
}
