import { useReactFlow } from "@xyflow/react";
import type { Layout } from "../api/types";
import { FIT_OPTIONS } from "./Canvas";
import { useEditor, useReadOnly } from "./context";

/** The layout buttons and separation sliders, with their values; every change lays out again and fits the view. */
export function LayoutControls() {
  const readOnly = useReadOnly();
  const setLayout = useEditor((s) => s.setLayout);
  const nodeSep = useEditor((s) => s.layout.node_sep);
  const rankSep = useEditor((s) => s.layout.rank_sep);
  const flow = useReactFlow();
  const relayout = (patch: Partial<Layout>) => {
    setLayout(patch);
    void flow.fitView(FIT_OPTIONS); // React Flow fits once the new positions are in
  };
  return (
    <>
      <button disabled={readOnly} onClick={() => relayout({ direction: "TB" })}>Vertical layout</button>
      <button disabled={readOnly} onClick={() => relayout({ direction: "LR" })}>Horizontal layout</button>
      <label title="space between nodes of one rank">nodes
        <input type="range" min={10} max={200} value={nodeSep} disabled={readOnly} aria-label="node separation"
          onChange={(e) => relayout({ node_sep: Number(e.target.value) })} />
        <output data-testid="node-sep">{nodeSep}</output>
      </label>
      <label title="space between ranks">ranks
        <input type="range" min={20} max={300} value={rankSep} disabled={readOnly} aria-label="rank separation"
          onChange={(e) => relayout({ rank_sep: Number(e.target.value) })} />
        <output data-testid="rank-sep">{rankSep}</output>
      </label>
    </>
  );
}
