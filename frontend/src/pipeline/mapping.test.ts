import { describe, expect, it } from "vitest";
import type { Graph } from "../api/types";
import { defaultLayout, flowToGraph, graphToFlow, toOriginalJSON } from "./mapping";

// The original visualizer's README example, as written there: workers name
// topics by id, and two of the ids are not in the topics list.
const original: Graph = {
  workers: [
    { id: "worker1", name: "Worker 1", input_topics: ["input_topic_1"], output_topics: ["output_topic_1"] },
    { id: "worker2", name: "Worker 2", input_topics: ["input_topic_2"], output_topics: ["output_topic_2"] },
  ],
  topics: [
    { id: "input_topic_1", name: "Input Topic 1" },
    { id: "output_topic_1", name: "Output Topic 1" },
  ],
};

describe("graph ⇄ flow mapping", () => {
  it("round-trips the original example: workers unchanged, missing topics kept as nodes", () => {
    const flow = graphToFlow(original);
    expect(flow.nodes.filter((n) => n.type === "worker")).toHaveLength(2);
    expect(flow.edges).toHaveLength(4);
    const back = toOriginalJSON(flowToGraph(flow.nodes, flow.edges, flow.layout));
    expect(back.workers).toEqual(original.workers);
    expect(back.topics.slice(0, 2)).toEqual(original.topics);
    expect(back.topics.slice(2)).toEqual([
      { id: "input_topic_2", name: "input_topic_2" },
      { id: "output_topic_2", name: "output_topic_2" },
    ]);
  });

  it("round-trips a complete graph exactly, with positions, layout and settings", () => {
    const g: Graph = {
      workers: [{ id: "w1", name: "enricher", input_topics: ["t1", "t2"], output_topics: ["t3"],
        function: "template", function_version: "1.0.0", metadata: { k: 1 }, instances: 2, timeout_seconds: 30,
        tombstone_ttl_seconds: 600,
        autoscale: { enabled: true, min: 1, max: 3, lag_per_instance: 500, activation_lag: 10, cooldown_seconds: 60 } }],
      topics: [{ id: "t1", name: "a" }, { id: "t2", name: "b" }, { id: "t3", name: "c" }],
      positions: { w1: { x: 10, y: 20 }, t1: { x: 0, y: 0 }, t2: { x: 0, y: 100 }, t3: { x: 300, y: 50 } },
      layout: { direction: "TB", node_sep: 40, rank_sep: 70 },
    };
    const flow = graphToFlow(g);
    expect(flow.positioned).toBe(true);
    expect(flowToGraph(flow.nodes, flow.edges, flow.layout)).toEqual(g);
  });

  it("resolves a topic named instead of by id", () => {
    const flow = graphToFlow({ workers: [{ id: "w", name: "w", input_topics: ["orders"], output_topics: [] }], topics: [{ id: "t9", name: "orders" }] });
    expect(flow.edges).toEqual([expect.objectContaining({ source: "t9", target: "w" })]);
    expect(flow.nodes).toHaveLength(2);
  });

  it("fills the default layout and reports missing positions", () => {
    const flow = graphToFlow({ workers: [], topics: [] });
    expect(flow.layout).toEqual(defaultLayout);
    expect(flow.positioned).toBe(false);
  });
});
