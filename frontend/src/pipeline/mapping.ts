// The one place where the API's pipeline JSON and the editor's nodes and
// edges meet. Pure functions.
import type { Graph, GraphWorker, Layout, WorkerSettings } from "../api/types";
import { edgeId, type PipelineEdge, type PipelineNode, type TopicNode, type WorkerNode } from "./model";

export const defaultLayout: Layout = { direction: "LR", node_sep: 50, rank_sep: 90 };

const settingKeys: (keyof WorkerSettings)[] = [
  "function", "function_version", "metadata", "timeout_seconds", "instances", "join_key",
  "expiry_topic", "dead_letter_topic", "tombstone_ttl_seconds", "cluster_id", "autoscale",
];

function settingsOf(w: GraphWorker): WorkerSettings {
  const s: WorkerSettings = {};
  for (const k of settingKeys) {
    if (w[k] !== undefined) (s as Record<string, unknown>)[k] = w[k];
  }
  return s;
}

/**
 * graphToFlow turns pipeline JSON into nodes and edges. A worker's topic
 * references are topic ids (as the original editor wrote) or names; one
 * that matches no topic becomes a topic node of that name, so nothing the
 * JSON says is lost.
 */
export function graphToFlow(graph: Graph): { nodes: PipelineNode[]; edges: PipelineEdge[]; layout: Layout; positioned: boolean } {
  const pos = graph.positions ?? {};
  const nodes: PipelineNode[] = [];
  const byRef = new Map<string, string>(); // topic id or name → node id
  const addTopic = (id: string, name: string) => {
    const n: TopicNode = { id, type: "topic", position: pos[id] ?? { x: 0, y: 0 }, data: { kind: "topic", name } };
    nodes.push(n);
    byRef.set(id, id);
    if (!byRef.has(name)) byRef.set(name, id);
  };
  for (const t of graph.topics ?? []) addTopic(t.id, t.name);
  const edges: PipelineEdge[] = [];
  for (const w of graph.workers ?? []) {
    const n: WorkerNode = { id: w.id, type: "worker", position: pos[w.id] ?? { x: 0, y: 0 },
      data: { kind: "worker", name: w.name, settings: settingsOf(w) } };
    nodes.push(n);
  }
  const topicFor = (ref: string) => {
    if (!byRef.has(ref)) addTopic(ref, ref);
    return byRef.get(ref)!;
  };
  for (const w of graph.workers ?? []) {
    for (const ref of w.input_topics ?? []) {
      const t = topicFor(ref);
      edges.push({ id: edgeId(t, w.id), source: t, target: w.id, type: "deletable" });
    }
    for (const ref of w.output_topics ?? []) {
      const t = topicFor(ref);
      edges.push({ id: edgeId(w.id, t), source: w.id, target: t, type: "deletable" });
    }
  }
  const positioned = graph.positions !== undefined && Object.keys(graph.positions).length > 0;
  return { nodes, edges, layout: { ...defaultLayout, ...graph.layout }, positioned };
}

/**
 * flowToGraph is the inverse: workers name their topics by topic id, in
 * the order of the edges; positions and layout are kept.
 */
export function flowToGraph(nodes: PipelineNode[], edges: PipelineEdge[], layout: Layout): Graph {
  const topics = nodes.filter((n): n is TopicNode => n.type === "topic");
  const workers = nodes.filter((n): n is WorkerNode => n.type === "worker");
  const positions: Record<string, { x: number; y: number }> = {};
  for (const n of nodes) positions[n.id] = { x: Math.round(n.position.x), y: Math.round(n.position.y) };
  return {
    workers: workers.map((w) => ({
      id: w.id,
      name: w.data.name,
      input_topics: edges.filter((e) => e.target === w.id).map((e) => e.source),
      output_topics: edges.filter((e) => e.source === w.id).map((e) => e.target),
      ...w.data.settings,
    })),
    topics: topics.map((t) => ({ id: t.id, name: t.data.name })),
    positions,
    layout,
  };
}

/** The original editor's JSON: only {workers:[{id,name,input_topics,output_topics}], topics:[{id,name}]}. */
export function toOriginalJSON(g: Graph): Pick<Graph, "workers" | "topics"> {
  return {
    workers: g.workers.map(({ id, name, input_topics, output_topics }) => ({ id, name, input_topics, output_topics })),
    topics: g.topics.map(({ id, name }) => ({ id, name })),
  };
}
