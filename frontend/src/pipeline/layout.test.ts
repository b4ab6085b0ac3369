import { describe, expect, it } from "vitest";
import type { Graph, Layout } from "../api/types";
import { FIT_MIN_ZOOM, layoutNodes } from "./layout";
import { graphToFlow } from "./mapping";
import type { PipelineEdge, PipelineNode } from "./model";
import { boxOf, intersects } from "./placement";
import { nodeSize, sizeOf } from "./size";

const node = (id: string, type: "worker" | "topic"): PipelineNode =>
  type === "worker"
    ? { id, type, position: { x: 0, y: 0 }, data: { kind: "worker", name: id, settings: {} } }
    : { id, type, position: { x: 0, y: 0 }, data: { kind: "topic", name: id } };

// in1, in2 → w → out
const nodes = [node("in1", "topic"), node("in2", "topic"), node("w", "worker"), node("out", "topic")];
const edges: PipelineEdge[] = [
  { id: "a", source: "in1", target: "w" },
  { id: "b", source: "in2", target: "w" },
  { id: "c", source: "w", target: "out" },
];
const at = (ns: PipelineNode[], id: string) => ns.find((n) => n.id === id)!.position;

// The demo pipeline as infra/demo saves it (no positions: the UI lays it
// out), with versions as long as the stack's content-named ones.
const demo: Graph = {
  topics: ["raw", "normalized", "language", "summary", "enriched"].map((t) => ({ id: t, name: `documents.${t}` })),
  workers: [
    ["raw-data", ["raw"], ["normalized"]],
    ["language-detector", ["normalized"], ["language"]],
    ["summarizer", ["normalized"], ["summary"]],
    ["enricher", ["language", "summary"], ["enriched"]],
  ].map(([name, inputs, outputs]) => ({ id: name as string, name: name as string, input_topics: inputs as string[],
    output_topics: outputs as string[], function: name as string, function_version: "dev-3f9a0c1b2d4e" })),
};

/**
 * A 100-node pipeline of several shapes at once: 12 sources fanned out to
 * workers, joins of two and three topics, a long chain, topics read by
 * several workers, and names of every length.
 */
function hundredNodes(): Graph {
  const g: Graph = { workers: [], topics: [] };
  let rnd = 7;
  const next = () => (rnd = (rnd * 1103515245 + 12345) % 2147483648) / 2147483648;
  const topic = () => {
    const id = `t${g.topics.length}`;
    g.topics.push({ id, name: `${"orders.".repeat(1 + Math.floor(next() * 3))}${id}` });
    return id;
  };
  const sources = Array.from({ length: 12 }, topic);
  let frontier = sources;
  while (g.workers.length + g.topics.length < 100) {
    const fanIn = 1 + Math.floor(next() * Math.min(3, frontier.length));
    const inputs = [...new Set(Array.from({ length: fanIn }, () => frontier[Math.floor(next() * frontier.length)]))];
    const out = topic();
    const id = `w${g.workers.length}`;
    g.workers.push({ id, name: `${id}-${"enrich".repeat(Math.floor(next() * 3))}`, input_topics: inputs, output_topics: [out],
      function: "template", function_version: next() < 0.5 ? "1.0.0" : "0.0.0-e2e.1790000000000" });
    frontier = [...frontier.slice(-8), out];
  }
  return g;
}

function overlaps(ns: PipelineNode[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < ns.length; i++) {
    for (let j = i + 1; j < ns.length; j++) {
      if (intersects(boxOf(ns[i]), boxOf(ns[j]))) out.push(`${ns[i].id} × ${ns[j].id}`);
    }
  }
  return out;
}

function bounds(ns: PipelineNode[]) {
  const boxes = ns.map(boxOf);
  const x0 = Math.min(...boxes.map((b) => b.x)), y0 = Math.min(...boxes.map((b) => b.y));
  return { width: Math.max(...boxes.map((b) => b.x + b.width)) - x0, height: Math.max(...boxes.map((b) => b.y + b.height)) - y0 };
}

describe("dagre layout", () => {
  it("puts ranks left to right in LR, spaced by the nodes' sizes and the separations", () => {
    const ns = layoutNodes(nodes, edges, { direction: "LR", node_sep: 50, rank_sep: 100 });
    expect(at(ns, "in1").x).toBeLessThan(at(ns, "w").x);
    expect(at(ns, "w").x).toBeLessThan(at(ns, "out").x);
    expect(at(ns, "in1").x).toBe(at(ns, "in2").x); // same rank
    const topicW = nodeSize(nodes[0]).width, workerW = nodeSize(nodes[2]).width;
    // rank separation between the ranks' edges (dagre centres a rank on its widest node)
    expect(workerW).toBeGreaterThan(topicW);
    // from the topics' left edges to the worker's: their rank's width, then the rank separation
    expect(at(ns, "w").x - at(ns, "in1").x).toBeCloseTo(topicW + 100, 0);
    expect(Math.abs(at(ns, "in1").y - at(ns, "in2").y)).toBeCloseTo(nodeSize(nodes[0]).height + 50, 0); // node separation
  });

  it("puts ranks top to bottom in TB, and separations change the spacing", () => {
    const tight = layoutNodes(nodes, edges, { direction: "TB", node_sep: 20, rank_sep: 30 });
    const loose = layoutNodes(nodes, edges, { direction: "TB", node_sep: 120, rank_sep: 200 });
    expect(at(tight, "in1").y).toBeLessThan(at(tight, "w").y);
    expect(at(tight, "w").y).toBeLessThan(at(tight, "out").y);
    expect(at(loose, "out").y - at(loose, "w").y).toBeGreaterThan(at(tight, "out").y - at(tight, "w").y);
    expect(Math.abs(at(loose, "in1").x - at(loose, "in2").x)).toBeGreaterThan(Math.abs(at(tight, "in1").x - at(tight, "in2").x));
  });

  it("gives every node the size it renders at", () => {
    for (const n of layoutNodes(nodes, edges, { direction: "LR", node_sep: 50, rank_sep: 90 })) {
      expect(sizeOf(n)).toEqual(nodeSize(n));
      expect(n.width).toBe(nodeSize(n).width);
    }
  });

  const layouts: Layout[] = [
    { direction: "LR", node_sep: 50, rank_sep: 90 },
    { direction: "TB", node_sep: 50, rank_sep: 90 },
    { direction: "LR", node_sep: 10, rank_sep: 20 }, // the sliders' least
    { direction: "TB", node_sep: 10, rank_sep: 20 },
    { direction: "TB", node_sep: 200, rank_sep: 300 },
  ];
  for (const [name, graph] of [["the demo pipeline", demo], ["a 100-node pipeline", hundredNodes()]] as const) {
    describe(name, () => {
      const flow = graphToFlow(graph);
      it("is what it says", () => {
        if (graph !== demo) expect(flow.nodes).toHaveLength(100);
      });
      for (const l of layouts) {
        it(`has no two nodes overlapping in ${l.direction} ${l.node_sep}/${l.rank_sep}, and fits a 1400×800 view`, () => {
          const ns = layoutNodes(flow.nodes, flow.edges, l);
          expect(overlaps(ns)).toEqual([]);
          const b = bounds(ns);
          expect(Math.min(1400 / b.width, 800 / b.height)).toBeGreaterThanOrEqual(FIT_MIN_ZOOM);
        });
      }
    });
  }
});
