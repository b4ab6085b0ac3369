import { Handle, Position, type NodeProps } from "@xyflow/react";
import type { TopicNode as TopicNodeType } from "../../../pipeline/model";
import { useEditor, useReadOnly } from "../../context";
import { EditableLabel } from "../../EditableLabel";

export function TopicNode({ id, data, selected }: NodeProps<TopicNodeType>) {
  const readOnly = useReadOnly();
  const renameNode = useEditor((s) => s.renameNode);
  const remove = useEditor((s) => s.remove);
  const direction = useEditor((s) => s.layout.direction);
  return (
    <div className={`node topic${selected ? " selected" : ""}`} data-testid={`topic-${data.name}`}>
      <Handle type="target" position={direction === "LR" ? Position.Left : Position.Top} />
      <div className="kind">topic</div>
      <EditableLabel value={data.name} disabled={readOnly} onSave={(v) => renameNode(id, v)} />
      {!readOnly && <button className="x" title="Delete topic" onClick={() => remove([id], [])}>×</button>}
      <Handle type="source" position={direction === "LR" ? Position.Right : Position.Bottom} />
    </div>
  );
}
