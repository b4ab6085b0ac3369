import { describe, expect, it } from "vitest";
import type { Pipeline } from "../api/types";
import { boxOf, intersects } from "../pipeline/placement";
import { nodeSize } from "../pipeline/size";
import { createEditorStore, graphOf } from "./store";

const pipeline: Pipeline = {
  id: 7, name: "demo", version: 3, worker_ids: { enricher: 11 }, created_at: "", updated_at: "",
  graph: {
    workers: [{ id: "w1", name: "enricher", input_topics: ["t1"], output_topics: [] }],
    topics: [{ id: "t1", name: "documents.raw" }],
    positions: { w1: { x: 200, y: 0 }, t1: { x: 0, y: 0 } },
  },
};

describe("editor store", () => {
  it("loads a pipeline clean, and each edit makes it dirty", () => {
    const s = createEditorStore();
    s.getState().load(pipeline);
    expect(s.getState().dirty).toBe(false);
    expect(s.getState().nodes).toHaveLength(2);
    const id = s.getState().addWorker();
    expect(s.getState().dirty).toBe(true);
    expect(s.getState().nodes.find((n) => n.id === id)?.data.name).toBe("worker-1");
  });

  it("adds, connects, renames and refuses bad connections with a reason", () => {
    const s = createEditorStore();
    s.getState().reset("p");
    const w = s.getState().addWorker();
    const t = s.getState().addTopic("orders");
    const out = s.getState().addTopic();
    expect(s.getState().connect({ source: t, target: w })).toBeNull();
    expect(s.getState().connect({ source: w, target: out })).toBeNull();
    expect(s.getState().connect({ source: t, target: out })).toMatch(/worker between/);
    s.getState().renameNode(w, "  enricher ");
    s.getState().renameNode(w, "   "); // blank names are ignored
    const g = graphOf(s.getState());
    expect(g.workers).toEqual([{ id: w, name: "enricher", input_topics: [t], output_topics: [out] }]);
    expect(g.topics.map((x) => x.name)).toEqual(["orders", "topic-1"]);
  });

  it("deletes a node with its edges, and undo brings both back", () => {
    const s = createEditorStore();
    s.getState().load(pipeline);
    s.getState().remove(["t1"], []);
    expect(s.getState().nodes.map((n) => n.id)).toEqual(["w1"]);
    expect(s.getState().edges).toHaveLength(0);
    s.getState().remove([], []); // nothing: no undo entry
    expect(s.getState().undoStack).toHaveLength(1);
    s.getState().undo();
    expect(s.getState().nodes).toHaveLength(2);
    expect(s.getState().edges).toHaveLength(1);
    expect(graphOf(s.getState()).workers[0].input_topics).toEqual(["t1"]);
  });

  it("keeps worker settings in the graph and clears dirty on save", () => {
    const s = createEditorStore();
    s.getState().load(pipeline);
    s.getState().updateSettings("w1", { function: "template", function_version: "1.0.0", instances: 2 });
    expect(graphOf(s.getState()).workers[0]).toMatchObject({ function: "template", instances: 2 });
    s.getState().saved({ ...pipeline, version: 4 });
    expect(s.getState().dirty).toBe(false);
    expect(s.getState().version).toBe(4);
  });

  it("lays out a pipeline loaded without positions", () => {
    const s = createEditorStore();
    s.getState().load({ ...pipeline, graph: { ...pipeline.graph, positions: undefined } });
    const [a, b] = s.getState().nodes;
    expect(a.position).not.toEqual(b.position);
    s.getState().setLayout({ direction: "TB" });
    const t = s.getState().nodes.find((n) => n.id === "t1")!;
    const w = s.getState().nodes.find((n) => n.id === "w1")!;
    expect(t.position.y).toBeLessThan(w.position.y);
  });

  it("puts nodes added by hand where no other node is, sized for their content", () => {
    const s = createEditorStore();
    s.getState().load(pipeline);
    for (let i = 0; i < 8; i++) {
      s.getState().addWorker();
      s.getState().addTopic(undefined, { x: 300, y: 60 }); // all wished at one spot
    }
    const ns = s.getState().nodes;
    for (const a of ns) {
      expect({ width: a.width, height: a.height }).toEqual(nodeSize(a));
      for (const b of ns) if (a !== b) expect(intersects(boxOf(a), boxOf(b)), `${a.id} × ${b.id}`).toBe(false);
    }
  });

  it("resizes a node whose name or function changes", () => {
    const s = createEditorStore();
    s.getState().load(pipeline);
    const before = s.getState().nodes.find((n) => n.id === "w1")!.width!;
    s.getState().updateSettings("w1", { function: "language-detector", function_version: "dev-3f9a0c1b2d4e" });
    expect(s.getState().nodes.find((n) => n.id === "w1")!.width).toBeGreaterThan(before);
    s.getState().renameNode("t1", "a-topic-with-a-much-longer-name");
    const t = s.getState().nodes.find((n) => n.id === "t1")!;
    expect(t.width).toBe(nodeSize(t).width);
  });
});
