// Which connections the editor accepts, and why it refuses the others.
import type { PipelineEdge, PipelineNode } from "./model";

export interface Connection {
  source: string | null;
  target: string | null;
}

export type Verdict = { ok: true } | { ok: false; reason: string };

/**
 * canConnect: topic→worker makes the topic an input of the worker,
 * worker→topic an output. Worker→worker and topic→topic have no meaning
 * in Kafka (a worker talks to another only through a topic), so they are
 * refused, as are self-loops, duplicates, and a topic that would be both
 * input and output of one worker (it would consume its own output).
 */
export function canConnect(nodes: PipelineNode[], edges: PipelineEdge[], c: Connection): Verdict {
  const src = nodes.find((n) => n.id === c.source);
  const dst = nodes.find((n) => n.id === c.target);
  if (!src || !dst) return { ok: false, reason: "Connect two nodes of the pipeline." };
  if (src.id === dst.id) return { ok: false, reason: "A node cannot be connected to itself." };
  if (src.type === "worker" && dst.type === "worker") {
    return { ok: false, reason: "Workers talk through topics: connect the worker to a topic, then the topic to the next worker." };
  }
  if (src.type === "topic" && dst.type === "topic") {
    return { ok: false, reason: "Topics cannot feed topics: put a worker between them." };
  }
  if (edges.some((e) => e.source === src.id && e.target === dst.id)) {
    return { ok: false, reason: "These two nodes are already connected." };
  }
  if (edges.some((e) => e.source === dst.id && e.target === src.id)) {
    const topic = src.type === "topic" ? src : dst;
    return { ok: false, reason: `Topic "${topic.data.name}" cannot be both an input and an output of the same worker.` };
  }
  return { ok: true };
}
