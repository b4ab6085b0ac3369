// Where a node added by hand goes: the free spot nearest to where the
// person is looking, so that new nodes never land on top of others.
import type { PipelineNode } from "./model";
import { sizeOf, type Size } from "./size";

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** The box a node covers on the canvas. */
export function boxOf(n: PipelineNode): Box {
  return { ...n.position, ...sizeOf(n) };
}

/** Whether two boxes overlap, with gap pixels of air required between them. */
export function intersects(a: Box, b: Box, gap = 0): boolean {
  return a.x < b.x + b.width + gap && b.x < a.x + a.width + gap && a.y < b.y + b.height + gap && b.y < a.y + a.height + gap;
}

const GAP = 24;
const STEP = 30;
const RINGS = 60;

/**
 * freeSpot is the top-left corner nearest to near (the node's wished-for
 * top-left) where a node of size keeps GAP pixels from every node, searched
 * in rings of STEP pixels; past RINGS rings, below everything.
 */
export function freeSpot(nodes: PipelineNode[], size: Size, near: { x: number; y: number }): { x: number; y: number } {
  const boxes = nodes.map(boxOf);
  const free = (x: number, y: number) => !boxes.some((b) => intersects(b, { x, y, ...size }, GAP));
  for (let r = 0; r <= RINGS; r++) {
    let best: { x: number; y: number; d: number } | null = null;
    for (let i = -r; i <= r; i++) {
      for (const [dx, dy] of [[i, -r], [i, r], [-r, i], [r, i]]) {
        const x = near.x + dx * STEP, y = near.y + dy * STEP;
        const d = dx * dx + dy * dy;
        if ((!best || d < best.d) && free(x, y)) best = { x, y, d };
      }
    }
    if (best) return { x: best.x, y: best.y };
  }
  const bottom = Math.max(...boxes.map((b) => b.y + b.height));
  return { x: near.x, y: bottom + GAP };
}
