import { useEffect } from "react";
import { setLeaveGuard } from "../navigation";
import type { EditorStore } from "./store";

export const LEAVE_QUESTION = "This pipeline has unsaved changes. Leave it anyway?";

/**
 * useLeaveGuard asks before unsaved changes are lost: the browser's own
 * question on reload or close, ours on any other way out of this pipeline
 * (a link, Back, Forward, another address in the bar).
 */
export function useLeaveGuard(store: EditorStore): void {
  useEffect(() => {
    const warn = (e: BeforeUnloadEvent) => {
      if (!store.getState().dirty) return;
      e.preventDefault();
      e.returnValue = ""; // what Chrome still asks for
    };
    window.addEventListener("beforeunload", warn);
    const off = setLeaveGuard((route) => {
      const st = store.getState();
      if (!st.dirty || (st.pipelineId !== null && route === `/pipelines/${st.pipelineId}`)) return true;
      return window.confirm(LEAVE_QUESTION);
    });
    return () => {
      window.removeEventListener("beforeunload", warn);
      off();
    };
  }, [store]);
}
