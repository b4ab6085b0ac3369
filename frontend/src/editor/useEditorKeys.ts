import { useEffect } from "react";
import type { EditorStore } from "./store";

/**
 * useEditorKeys: Ctrl+Z undoes a deletion, Delete and Backspace delete
 * the selection (not while typing), Escape closes what is open over the
 * canvas (onEscape), even from a field of the panel.
 */
export function useEditorKeys(store: EditorStore, readOnly: boolean, onEscape: () => void): void {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const typing = (e.target as HTMLElement).closest?.("input,textarea,select");
      if (e.key === "Escape") {
        // a node's label being renamed takes its own Escape (cancel)
        if (!(e.target as HTMLElement).closest?.(".react-flow__node")) onEscape();
        return;
      }
      if (readOnly || typing) return;
      if ((e.ctrlKey || e.metaKey) && e.key === "z") {
        store.getState().undo();
        e.preventDefault();
      }
      if (e.key === "Delete" || e.key === "Backspace") {
        const st = store.getState();
        st.remove(st.nodes.filter((n) => n.selected).map((n) => n.id), st.edges.filter((x) => x.selected).map((x) => x.id));
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [store, readOnly, onEscape]);
}
