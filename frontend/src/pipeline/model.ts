// The editor's graph as React Flow holds it: worker and topic nodes, and
// edges topic→worker (an input) or worker→topic (an output).
import type { Edge, Node } from "@xyflow/react";
import type { WorkerSettings } from "../api/types";

export type WorkerData = { kind: "worker"; name: string; settings: WorkerSettings };
export type TopicData = { kind: "topic"; name: string };

export type WorkerNode = Node<WorkerData, "worker">;
export type TopicNode = Node<TopicData, "topic">;
export type PipelineNode = WorkerNode | TopicNode;
export type PipelineEdge = Edge;

export const edgeId = (source: string, target: string) => `${source}->${target}`;

export function isWorker(n: PipelineNode | undefined): n is WorkerNode {
  return n?.type === "worker";
}

const indexes = new WeakMap<PipelineNode[], Map<string, PipelineNode>>();

/** nodeById finds a node by id, indexing each nodes array once (selectors ask on every store change). */
export function nodeById(nodes: PipelineNode[], id: string): PipelineNode | undefined {
  let index = indexes.get(nodes);
  if (!index) {
    index = new Map(nodes.map((n) => [n.id, n]));
    indexes.set(nodes, index);
  }
  return index.get(id);
}
