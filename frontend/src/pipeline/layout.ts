// Automatic layered layout with dagre: topics and workers in ranks, data
// flowing top-to-bottom (TB) or left-to-right (LR).
import dagre from "@dagrejs/dagre";
import type { Layout } from "../api/types";
import type { PipelineEdge, PipelineNode } from "./model";

export const NODE_WIDTH = 180;
export const NODE_HEIGHT = 56;

/** layoutNodes returns the nodes with new positions (top-left corners). */
export function layoutNodes(nodes: PipelineNode[], edges: PipelineEdge[], layout: Layout): PipelineNode[] {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: layout.direction, nodesep: layout.node_sep, ranksep: layout.rank_sep, marginx: 20, marginy: 20 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of nodes) g.setNode(n.id, { width: NODE_WIDTH, height: NODE_HEIGHT });
  for (const e of edges) g.setEdge(e.source, e.target);
  dagre.layout(g);
  return nodes.map((n) => {
    const p = g.node(n.id);
    return { ...n, position: { x: p.x - NODE_WIDTH / 2, y: p.y - NODE_HEIGHT / 2 } };
  });
}
