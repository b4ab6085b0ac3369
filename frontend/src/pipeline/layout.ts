// Automatic layered layout with dagre: topics and workers in ranks, data
// flowing top-to-bottom (TB) or left-to-right (LR), each node as large as
// it renders (size.ts), so that no two nodes overlap.
import dagre from "@dagrejs/dagre";
import type { Layout } from "../api/types";
import type { PipelineEdge, PipelineNode } from "./model";
import { sized, sizeOf } from "./size";

/**
 * FIT_MIN_ZOOM is the least zoom of the canvas: low enough that "Fit" and
 * the layouts show a few hundred nodes whole (React Flow's default, 0.5,
 * leaves most of a 100-node pipeline outside the view).
 */
export const FIT_MIN_ZOOM = 0.04;

/** layoutNodes returns the nodes, sized, with new positions (top-left corners). */
export function layoutNodes(nodes: PipelineNode[], edges: PipelineEdge[], layout: Layout): PipelineNode[] {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: layout.direction, nodesep: layout.node_sep, ranksep: layout.rank_sep, marginx: 20, marginy: 20 });
  g.setDefaultEdgeLabel(() => ({}));
  const all = nodes.map(sized);
  for (const n of all) g.setNode(n.id, sizeOf(n));
  for (const e of edges) g.setEdge(e.source, e.target);
  dagre.layout(g);
  return all.map((n) => {
    const p = g.node(n.id);
    const { width, height } = sizeOf(n);
    return { ...n, position: { x: p.x - width / 2, y: p.y - height / 2 } };
  });
}
