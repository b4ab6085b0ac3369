// One store per editor: the pipeline being edited, its nodes and edges,
// undo of deletions, and whether there are unsaved changes.
import { applyEdgeChanges, applyNodeChanges, type EdgeChange, type NodeChange } from "@xyflow/react";
import { createStore } from "zustand/vanilla";
import type { Layout, Pipeline, WorkerSettings } from "../api/types";
import { layoutNodes } from "../pipeline/layout";
import { defaultLayout, flowToGraph, graphToFlow } from "../pipeline/mapping";
import { edgeId, type PipelineEdge, type PipelineNode } from "../pipeline/model";
import { freeSpot } from "../pipeline/placement";
import { canConnect, type Connection } from "../pipeline/rules";
import { nodeSize, sized } from "../pipeline/size";

interface Removed {
  nodes: PipelineNode[];
  edges: PipelineEdge[];
}

export interface EditorState {
  pipelineId: number | null;
  name: string;
  version: number | null;
  workerIds: Record<string, number>;
  nodes: PipelineNode[];
  edges: PipelineEdge[];
  layout: Layout;
  dirty: boolean;
  undoStack: Removed[];
  selected: string | null;
  seq: number;
  /** the topic and function pickers also list what test runs left behind (api/testnames.ts) */
  showTestNames: boolean;

  load(p: Pipeline): void;
  reset(name: string): void;
  rename(name: string): void;
  /** adds a node at the free spot nearest to near (its wished-for centre), selecting a worker; returns its id */
  addWorker(near?: Point): string;
  addTopic(name?: string, near?: Point): string;
  connect(c: Connection): string | null;
  renameNode(id: string, name: string): void;
  updateSettings(id: string, patch: WorkerSettings): void;
  remove(nodeIds: string[], edgeIds: string[]): void;
  undo(): void;
  select(id: string | null): void;
  setShowTestNames(show: boolean): void;
  setLayout(patch: Partial<Layout>, relayout?: boolean): void;
  applyLayout(): void;
  onNodesChange(changes: NodeChange<PipelineNode>[]): void;
  onEdgesChange(changes: EdgeChange<PipelineEdge>[]): void;
  saved(p: Pipeline): void;
  /** forgets the unsaved changes (the pipeline was deleted) */
  discard(): void;
}

type Point = { x: number; y: number };

/** Where a node added without a wish is centred (then moved to the nearest free spot). */
const ORIGIN: Point = { x: 140, y: 80 };

/** A name not yet used by a node of kind, e.g. worker-3. */
function freshName(nodes: PipelineNode[], base: string): string {
  const used = new Set(nodes.map((n) => n.data.name));
  for (let i = 1; ; i++) if (!used.has(`${base}-${i}`)) return `${base}-${i}`;
}

export function createEditorStore() {
  return createStore<EditorState>()((set, get) => ({
    pipelineId: null,
    name: "",
    version: null,
    workerIds: {},
    nodes: [],
    edges: [],
    layout: defaultLayout,
    dirty: false,
    undoStack: [],
    selected: null,
    seq: 1,
    showTestNames: false,

    load(p) {
      const flow = graphToFlow(p.graph);
      const nodes = flow.positioned ? flow.nodes.map(sized) : layoutNodes(flow.nodes, flow.edges, flow.layout);
      set({ pipelineId: p.id, name: p.name, version: p.version, workerIds: p.worker_ids, nodes, edges: flow.edges,
        layout: flow.layout, dirty: false, undoStack: [], selected: null, seq: nodes.length + 1 });
    },
    reset(name) {
      set({ pipelineId: null, name, version: null, workerIds: {}, nodes: [], edges: [], layout: defaultLayout,
        dirty: true, undoStack: [], selected: null, seq: 1 });
    },
    rename(name) {
      set({ name, dirty: true });
    },
    addWorker(near = ORIGIN) {
      const { nodes, seq } = get();
      const id = `w${seq}`;
      const node = place(nodes, { id, type: "worker", position: near, data: { kind: "worker", name: freshName(nodes, "worker"), settings: {} } });
      set({ nodes: [...nodes, node], seq: seq + 1, dirty: true, selected: id });
      return id;
    },
    addTopic(name, near = ORIGIN) {
      const { nodes, seq } = get();
      const id = `t${seq}`;
      const node = place(nodes, { id, type: "topic", position: near, data: { kind: "topic", name: name ?? freshName(nodes, "topic") } });
      set({ nodes: [...nodes, node], seq: seq + 1, dirty: true });
      return id;
    },
    connect(c) {
      const { nodes, edges } = get();
      const v = canConnect(nodes, edges, c);
      if (!v.ok) return v.reason;
      const e: PipelineEdge = { id: edgeId(c.source!, c.target!), source: c.source!, target: c.target!, type: "deletable" };
      set({ edges: [...edges, e], dirty: true });
      return null;
    },
    renameNode(id, name) {
      const trimmed = name.trim();
      if (!trimmed) return;
      set({ nodes: get().nodes.map((n) => (n.id === id ? sized({ ...n, data: { ...n.data, name: trimmed } } as PipelineNode) : n)), dirty: true });
    },
    updateSettings(id, patch) {
      set({
        nodes: get().nodes.map((n) =>
          n.id === id && n.type === "worker" ? sized({ ...n, data: { ...n.data, settings: { ...n.data.settings, ...patch } } }) : n),
        dirty: true,
      });
    },
    remove(nodeIds, edgeIds) {
      const { nodes, edges, undoStack, selected } = get();
      const goneNodes = nodes.filter((n) => nodeIds.includes(n.id));
      const goneEdges = edges.filter((e) => edgeIds.includes(e.id) || nodeIds.includes(e.source) || nodeIds.includes(e.target));
      if (goneNodes.length === 0 && goneEdges.length === 0) return;
      set({
        nodes: nodes.filter((n) => !nodeIds.includes(n.id)),
        edges: edges.filter((e) => !goneEdges.includes(e)),
        undoStack: [...undoStack, { nodes: goneNodes, edges: goneEdges }],
        selected: selected && nodeIds.includes(selected) ? null : selected,
        dirty: true,
      });
    },
    undo() {
      const { undoStack, nodes, edges } = get();
      const last = undoStack.at(-1);
      if (!last) return;
      set({ nodes: [...nodes, ...last.nodes], edges: [...edges, ...last.edges], undoStack: undoStack.slice(0, -1), dirty: true });
    },
    select(id) {
      set({ selected: id });
    },
    setShowTestNames(show) {
      set({ showTestNames: show });
    },
    setLayout(patch, relayout = true) {
      set({ layout: { ...get().layout, ...patch }, dirty: true });
      if (relayout) get().applyLayout();
    },
    applyLayout() {
      const { nodes, edges, layout } = get();
      set({ nodes: layoutNodes(nodes, edges, layout), dirty: true });
    },
    onNodesChange(changes) {
      const moved = changes.some((c) => c.type === "position" && c.dragging === false);
      const kept = changes.filter((c) => c.type !== "remove"); // deletions go through remove(), for undo
      set({ nodes: applyNodeChanges(kept, get().nodes), dirty: get().dirty || moved });
    },
    onEdgesChange(changes) {
      set({ edges: applyEdgeChanges(changes.filter((c) => c.type !== "remove"), get().edges) });
    },
    saved(p) {
      set({ pipelineId: p.id, version: p.version, workerIds: p.worker_ids, name: p.name, dirty: false });
    },
    discard() {
      set({ dirty: false });
    },
  }));
}

export type EditorStore = ReturnType<typeof createEditorStore>;

/** The node, sized, at the free spot nearest to having its centre at its position. */
function place(nodes: PipelineNode[], n: PipelineNode): PipelineNode {
  const size = nodeSize(n);
  const position = freeSpot(nodes, size, { x: n.position.x - size.width / 2, y: n.position.y - size.height / 2 });
  return { ...n, position, ...size };
}

/** The pipeline JSON of the editor's current state. */
export function graphOf(s: EditorState) {
  return flowToGraph(s.nodes, s.edges, s.layout);
}
