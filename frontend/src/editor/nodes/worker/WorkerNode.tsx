import { Handle, Position, type NodeProps } from "@xyflow/react";
import { memo } from "react";
import type { WorkerNode as WorkerNodeType } from "../../../pipeline/model";
import { workerKind } from "../../../pipeline/size";
import { useEditor, useReadOnly } from "../../context";
import { EditableLabel } from "../../EditableLabel";
import { NodeHistory } from "./NodeHistory";
import { useWorkerHealth } from "./useHealth";

/** A worker: its function, name, health and last hour; it fills the box its size (pipeline/size.ts) gives it. */
export const WorkerNode = memo(function WorkerNode({ id, data, selected }: NodeProps<WorkerNodeType>) {
  const readOnly = useReadOnly();
  const renameNode = useEditor((s) => s.renameNode);
  const remove = useEditor((s) => s.remove);
  const vertical = useEditor((s) => s.layout.direction === "TB");
  const workerId = useEditor((s) => s.workerIds[data.name]);
  const health = useWorkerHealth(data.name);
  const kind = workerKind(data.settings.function, data.settings.function_version);
  return (
    <div className={`node worker${selected ? " selected" : ""}`} data-testid={`worker-${data.name}`}>
      <Handle type="target" position={vertical ? Position.Top : Position.Left} />
      <div className="kind" title={kind}>{kind}</div>
      <EditableLabel value={data.name} disabled={readOnly} onSave={(v) => renameNode(id, v)} />
      <div className={`health ${health.tone}`} data-testid="health" data-tone={health.tone} title={health.text}>{health.text}</div>
      {workerId !== undefined && <NodeHistory workerId={workerId} />}
      {!readOnly && <button className="x" title="Delete worker" onClick={() => remove([id], [])}>×</button>}
      <Handle type="source" position={vertical ? Position.Bottom : Position.Right} />
    </div>
  );
});
