import { Background, Controls, ReactFlow, useReactFlow, useUpdateNodeInternals, type Connection, type NodeMouseHandler } from "@xyflow/react";
import { useCallback, useEffect, useRef } from "react";
import { FIT_MIN_ZOOM } from "../pipeline/layout";
import type { PipelineNode } from "../pipeline/model";
import { useEditor, useEditorStore, useFlash, useReadOnly } from "./context";
import { DeletableEdge } from "./DeletableEdge";
import { HistoryMissing } from "./HistoryMissing";
import { TopicNode } from "./nodes/topic/TopicNode";
import { WorkerNode } from "./nodes/worker/WorkerNode";

const nodeTypes = { worker: WorkerNode, topic: TopicNode };
const edgeTypes = { deletable: DeletableEdge };
/** How every fit of the view frames the pipeline: some air, and never blown up past its size. */
export const FIT_OPTIONS = { padding: 0.08, maxZoom: 1, minZoom: FIT_MIN_ZOOM };

/**
 * Canvas is the graph. It selects only the nodes, edges and the layout's
 * direction, and passes React Flow stable callbacks, so that a drag
 * re-renders React Flow and the dragged node, not the editor around it.
 */
export function Canvas() {
  const store = useEditorStore();
  const readOnly = useReadOnly();
  const flash = useFlash();
  const nodes = useEditor((s) => s.nodes);
  const edges = useEditor((s) => s.edges);
  const onNodesChange = useEditor((s) => s.onNodesChange);
  const onEdgesChange = useEditor((s) => s.onEdgesChange);
  const direction = useEditor((s) => s.layout.direction);
  const updateNodeInternals = useUpdateNodeInternals();
  const flow = useReactFlow();
  const selected = useEditor((s) => s.selected);
  const canvas = useRef<HTMLDivElement>(null);

  // Handles move from left/right to top/bottom with the direction: React
  // Flow must measure them again, or edges keep leaving from the old sides.
  useEffect(() => {
    updateNodeInternals(store.getState().nodes.map((n) => n.id));
  }, [direction, store, updateNodeInternals]);

  // The panel that opens beside the canvas must not hide the node it is
  // about: once the canvas has narrowed, pan just enough to show it whole.
  useEffect(() => {
    if (!selected) return;
    const frame = requestAnimationFrame(() => {
      const n = flow.getInternalNode(selected);
      const width = canvas.current?.clientWidth ?? 0;
      if (!n || !width) return;
      const { x, y, zoom } = flow.getViewport();
      const left = n.internals.positionAbsolute.x * zoom + x;
      const right = left + (n.measured.width ?? n.width ?? 0) * zoom;
      const margin = 24;
      const dx = right > width - margin ? width - margin - right : left < margin ? margin - left : 0;
      if (dx !== 0) void flow.setViewport({ x: x + Math.max(dx, margin - left), y, zoom }, { duration: 200 });
    });
    return () => cancelAnimationFrame(frame);
  }, [selected, flow]);

  const onConnect = useCallback((c: Connection) => {
    const reason = store.getState().connect(c);
    if (reason) flash(reason, "error");
  }, [store, flash]);
  const onNodeClick: NodeMouseHandler<PipelineNode> = useCallback((_, n) => store.getState().select(n.id), [store]);
  const onPaneClick = useCallback(() => store.getState().select(null), [store]);

  return (
    <div className="canvas" ref={canvas}>
      <HistoryMissing />
      <ReactFlow nodes={nodes} edges={edges} nodeTypes={nodeTypes} edgeTypes={edgeTypes}
        onNodesChange={onNodesChange} onEdgesChange={onEdgesChange} onConnect={onConnect}
        onNodeClick={onNodeClick} onPaneClick={onPaneClick} minZoom={FIT_MIN_ZOOM}
        nodesConnectable={!readOnly} nodesDraggable={!readOnly} deleteKeyCode={null} fitView fitViewOptions={FIT_OPTIONS}>
        <Background />
        <Controls showInteractive={false} fitViewOptions={FIT_OPTIONS} />
      </ReactFlow>
    </div>
  );
}
