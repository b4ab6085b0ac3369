import { describe, expect, it } from "vitest";
import type { PipelineEdge, PipelineNode } from "./model";
import { canConnect } from "./rules";

const nodes: PipelineNode[] = [
  { id: "w1", type: "worker", position: { x: 0, y: 0 }, data: { kind: "worker", name: "w1", settings: {} } },
  { id: "w2", type: "worker", position: { x: 0, y: 0 }, data: { kind: "worker", name: "w2", settings: {} } },
  { id: "t1", type: "topic", position: { x: 0, y: 0 }, data: { kind: "topic", name: "orders" } },
  { id: "t2", type: "topic", position: { x: 0, y: 0 }, data: { kind: "topic", name: "enriched" } },
];
const edges: PipelineEdge[] = [{ id: "t1->w1", source: "t1", target: "w1" }];

describe("connection rules", () => {
  it("accepts topic→worker (an input) and worker→topic (an output)", () => {
    expect(canConnect(nodes, edges, { source: "t1", target: "w2" })).toEqual({ ok: true });
    expect(canConnect(nodes, edges, { source: "w1", target: "t2" })).toEqual({ ok: true });
  });
  it.each([
    ["worker→worker", "w1", "w2", /through topics/],
    ["topic→topic", "t1", "t2", /put a worker between/],
    ["a self-loop", "w1", "w1", /itself/],
    ["a duplicate", "t1", "w1", /already connected/],
    ["an output that is also an input", "w1", "t1", /both an input and an output/],
    ["an unknown node", "t1", "nope", /two nodes/],
  ])("refuses %s with a reason", (_, source, target, reason) => {
    const v = canConnect(nodes, edges, { source, target });
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.reason).toMatch(reason);
  });
});
