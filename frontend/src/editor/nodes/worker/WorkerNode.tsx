import { Handle, Position, type NodeProps } from "@xyflow/react";
import { memo } from "react";
import type { WorkerNode as WorkerNodeType } from "../../../pipeline/model";
import { useEditor, useLive, useReadOnly } from "../../context";
import { EditableLabel } from "../../EditableLabel";
import { healthOf } from "./health";
import { NodeHistory } from "./NodeHistory";

export const WorkerNode = memo(function WorkerNode({ id, data, selected }: NodeProps<WorkerNodeType>) {
  const readOnly = useReadOnly();
  const renameNode = useEditor((s) => s.renameNode);
  const remove = useEditor((s) => s.remove);
  const direction = useEditor((s) => s.layout.direction);
  const workerId = useEditor((s) => s.workerIds[data.name]);
  const live = useLive();
  const health = healthOf(live.status[data.name], live.metrics[data.name]);
  return (
    <div className={`node worker${selected ? " selected" : ""}`} data-testid={`worker-${data.name}`}>
      <Handle type="target" position={direction === "LR" ? Position.Left : Position.Top} />
      <div className="kind">worker{data.settings.function ? ` · ${data.settings.function} ${data.settings.function_version}` : ""}</div>
      <EditableLabel value={data.name} disabled={readOnly} onSave={(v) => renameNode(id, v)} />
      <div className={`health ${health.tone}`} data-testid="health">{health.text}</div>
      {workerId !== undefined && <NodeHistory workerId={workerId} />}
      {!readOnly && <button className="x" title="Delete worker" onClick={() => remove([id], [])}>×</button>}
      <Handle type="source" position={direction === "LR" ? Position.Right : Position.Bottom} />
    </div>
  );
});
