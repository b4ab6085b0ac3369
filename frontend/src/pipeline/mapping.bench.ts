import { bench, describe } from "vitest";
import type { Graph } from "../api/types";
import { layoutNodes } from "./layout";
import { defaultLayout, flowToGraph, graphToFlow } from "./mapping";

// A chain of 50 workers and 50 topics: what the UI does on load and save.
const graph: Graph = { workers: [], topics: [] };
for (let i = 0; i < 50; i++) {
  graph.topics.push({ id: `t${i}`, name: `topic-${i}` });
  graph.workers.push({ id: `w${i}`, name: `worker-${i}`, input_topics: [`t${i}`], output_topics: i < 49 ? [`t${i + 1}`] : [] });
}
const flow = graphToFlow(graph);

describe("100-node pipeline", () => {
  bench("graphToFlow (load mapping)", () => { graphToFlow(graph); });
  bench("flowToGraph (save mapping)", () => { flowToGraph(flow.nodes, flow.edges, defaultLayout); });
  bench("dagre layout", () => { layoutNodes(flow.nodes, flow.edges, defaultLayout); });
});
