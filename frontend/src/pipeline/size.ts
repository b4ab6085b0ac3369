// The size of every node, decided from its content alone, so that the
// layout and the canvas agree: the store gives each node these as its
// width and height, React Flow renders the node box at exactly that size
// (styles.css makes the content fill it, ellipsing what does not fit), and
// dagre lays out the same numbers. A node never grows after it is laid out.
import type { PipelineNode } from "./model";

/** Heights: the rows styles.css gives .node (kind, label, health, sparklines), padding and border included. */
export const WORKER_HEIGHT = 118;
export const TOPIC_HEIGHT = 58;
export const MIN_NODE_WIDTH = 170;
export const MAX_NODE_WIDTH = 300;

// Generous average advances of the fonts in styles.css (system-ui): 14 px
// labels, 10 px upper-case kind lines. Overestimating costs a little
// space; underestimating costs an ellipsis, never an overlap.
const LABEL_PX_PER_CHAR = 8.6;
const KIND_PX_PER_CHAR = 7.2;
const SPARKLINES_WIDTH = 176; // two rows of label, 96 px chart and value
const PADDING_X = 24; // 10 px padding and 2 px border on each side

export interface Size {
  width: number;
  height: number;
}

/** The kind line of a worker node: "worker · summarizer 1.2.0". */
export function workerKind(fn?: string, version?: string): string {
  return fn ? `worker · ${fn} ${version ?? ""}`.trim() : "worker";
}

export function nodeSize(n: PipelineNode): Size {
  const label = n.data.name.length * LABEL_PX_PER_CHAR;
  if (n.type === "topic") {
    return { width: clampWidth(label + PADDING_X + 8), height: TOPIC_HEIGHT };
  }
  const kind = workerKind(n.data.settings.function, n.data.settings.function_version).length * KIND_PX_PER_CHAR;
  return { width: clampWidth(Math.max(label, kind, SPARKLINES_WIDTH) + PADDING_X), height: WORKER_HEIGHT };
}

function clampWidth(w: number): number {
  return Math.min(MAX_NODE_WIDTH, Math.max(MIN_NODE_WIDTH, Math.ceil(w / 2) * 2));
}

/** The node with its content's size as its width and height (the same object when they are already right). */
export function sized<N extends PipelineNode>(n: N): N {
  const { width, height } = nodeSize(n);
  return n.width === width && n.height === height ? n : { ...n, width, height };
}

/** The size a node is laid out with: the one it was given, else its content's. */
export function sizeOf(n: PipelineNode): Size {
  return n.width && n.height ? { width: n.width, height: n.height } : nodeSize(n);
}
