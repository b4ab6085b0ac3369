import { BaseEdge, EdgeLabelRenderer, getBezierPath, type EdgeProps } from "@xyflow/react";
import { useEditor, useLive, useReadOnly } from "./context";

/** An edge with, at its middle, the consumer lag and rate of topic→worker edges and a × to delete it on hover. */
export function DeletableEdge(p: EdgeProps) {
  const [path, x, y] = getBezierPath(p);
  const readOnly = useReadOnly();
  const remove = useEditor((s) => s.remove);
  const nodes = useEditor((s) => s.nodes);
  const live = useLive();
  const src = nodes.find((n) => n.id === p.source);
  const dst = nodes.find((n) => n.id === p.target);
  let label = "";
  if (src?.type === "topic" && dst?.type === "worker") {
    const m = live.metrics[dst.data.name];
    if (m) label = `lag ${m.lag.by_topic[src.data.name] ?? 0} · ${(m.throughput.in_per_sec_by_topic?.[src.data.name] ?? 0).toFixed(1)}/s`;
  }
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
}
