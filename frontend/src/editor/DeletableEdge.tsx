import { BaseEdge, EdgeLabelRenderer, getBezierPath, type EdgeProps } from "@xyflow/react";
import { memo } from "react";
import { nodeById } from "../pipeline/model";
import { useEditor, useLive, useReadOnly } from "./context";

/**
 * An edge with, at its middle, the consumer lag and rate of topic→worker
 * edges and a × to delete it on hover. It selects only its two nodes'
 * names and that worker's numbers, so dragging some other node or a
 * refresh of another worker does not re-render it.
 */
export const DeletableEdge = memo(function DeletableEdge(p: EdgeProps) {
  const [path, x, y] = getBezierPath(p);
  const readOnly = useReadOnly();
  const remove = useEditor((s) => s.remove);
  // "topic\nworker" for an input edge, "" for an output
  const input = useEditor((s) => {
    const src = nodeById(s.nodes, p.source), dst = nodeById(s.nodes, p.target);
    return src?.type === "topic" && dst?.type === "worker" ? `${src.data.name}\n${dst.data.name}` : "";
  });
  const label = useLive((l) => {
    if (!input) return "";
    const [topic, worker] = input.split("\n");
    const m = l.metrics[worker];
    return m ? `lag ${m.lag.by_topic[topic] ?? 0} · ${(m.throughput.in_per_sec_by_topic?.[topic] ?? 0).toFixed(1)}/s` : "";
  });
  return (
    <>
      <BaseEdge id={p.id} path={path} markerEnd={p.markerEnd} style={p.style} />
      <EdgeLabelRenderer>
        <div className="edge-label nodrag nopan" data-testid={`edge-${p.id}`}
          style={{ transform: `translate(-50%, -50%) translate(${x}px,${y}px)`, visibility: label || !readOnly ? "visible" : "hidden" }}>
          {label || "·"}
          {!readOnly && <button className="edge-x" title="Delete connection" onClick={() => remove([], [p.id])}>×</button>}
        </div>
      </EdgeLabelRenderer>
    </>
  );
});
