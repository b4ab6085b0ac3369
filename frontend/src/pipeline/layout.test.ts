import { describe, expect, it } from "vitest";
import { layoutNodes, NODE_HEIGHT, NODE_WIDTH } from "./layout";
import type { PipelineEdge, PipelineNode } from "./model";

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

describe("dagre layout", () => {
  it("puts ranks left to right in LR", () => {
    const ns = layoutNodes(nodes, edges, { direction: "LR", node_sep: 50, rank_sep: 100 });
    expect(at(ns, "in1").x).toBeLessThan(at(ns, "w").x);
    expect(at(ns, "w").x).toBeLessThan(at(ns, "out").x);
    expect(at(ns, "in1").x).toBe(at(ns, "in2").x); // same rank
    expect(at(ns, "w").x - at(ns, "in1").x).toBeCloseTo(NODE_WIDTH + 100, 0); // rank separation
    expect(Math.abs(at(ns, "in1").y - at(ns, "in2").y)).toBeCloseTo(NODE_HEIGHT + 50, 0); // node separation
  });

  it("puts ranks top to bottom in TB, and separations change the spacing", () => {
    const tight = layoutNodes(nodes, edges, { direction: "TB", node_sep: 20, rank_sep: 30 });
    const loose = layoutNodes(nodes, edges, { direction: "TB", node_sep: 120, rank_sep: 200 });
    expect(at(tight, "in1").y).toBeLessThan(at(tight, "w").y);
    expect(at(tight, "w").y).toBeLessThan(at(tight, "out").y);
    expect(at(loose, "out").y - at(loose, "w").y).toBeGreaterThan(at(tight, "out").y - at(tight, "w").y);
    expect(Math.abs(at(loose, "in1").x - at(loose, "in2").x)).toBeGreaterThan(Math.abs(at(tight, "in1").x - at(tight, "in2").x));
  });
});
