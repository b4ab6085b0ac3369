import { Handle, Position, type NodeProps } from "@xyflow/react";
import { memo } from "react";
import type { TopicNode as TopicNodeType } from "../../../pipeline/model";
import { useEditor, useReadOnly } from "../../context";
import { EditableLabel } from "../../EditableLabel";

/** A Kafka topic; it fills the box its size (pipeline/size.ts) gives it. */
export const TopicNode = memo(function TopicNode({ id, data, selected }: NodeProps<TopicNodeType>) {
  const readOnly = useReadOnly();
  const renameNode = useEditor((s) => s.renameNode);
  const remove = useEditor((s) => s.remove);
  const vertical = useEditor((s) => s.layout.direction === "TB");
  return (
    <div className={`node topic${selected ? " selected" : ""}`} data-testid={`topic-${data.name}`}>
      <Handle type="target" position={vertical ? Position.Top : Position.Left} />
      <div className="kind">topic</div>
      <EditableLabel value={data.name} disabled={readOnly} onSave={(v) => renameNode(id, v)} />
      {!readOnly && <button className="x" title="Delete topic" onClick={() => remove([id], [])}>×</button>}
      <Handle type="source" position={vertical ? Position.Bottom : Position.Right} />
    </div>
  );
});
