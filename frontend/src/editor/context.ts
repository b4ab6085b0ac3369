import { createContext, useContext } from "react";
import { useStore } from "zustand";
import type { HistoryState, HistoryStore } from "../charts/history";
import type { LiveState, LiveStore } from "./live";
import type { NoticeState, NoticeStore } from "./notice";
import type { EditorState, EditorStore } from "./store";

/**
 * The editor's stores. Each part of the screen selects what it shows from
 * the one that changes it, so a drag re-renders the dragged node and its
 * edges, a status refresh the workers whose status changed, a message the
 * status area: never the whole editor.
 */
export interface EditorEnv {
  store: EditorStore;
  readOnly: boolean;
  /** the deployed workers' status and metrics, by worker name */
  live: LiveStore;
  /** the deployed workers' last hour */
  history: HistoryStore;
  /** the message of the moment */
  notice: NoticeStore;
}

export const EditorContext = createContext<EditorEnv | null>(null);

function useEnv(): EditorEnv {
  const env = useContext(EditorContext);
  if (!env) throw new Error("editor components must be inside EditorContext");
  return env;
}

/** useEditor selects from the editor's store. */
export function useEditor<T>(select: (s: EditorState) => T): T {
  return useStore(useEnv().store, select);
}

/** useLive selects from the workers' live status and metrics. */
export function useLive<T>(select: (s: LiveState) => T): T {
  return useStore(useEnv().live, select);
}

/** useHistory selects from the editor's history of lag and rate. */
export function useHistory<T>(select: (s: HistoryState) => T): T {
  return useStore(useEnv().history, select);
}

/** useNotice selects the message of the moment. */
export function useNotice<T>(select: (s: NoticeState) => T): T {
  return useStore(useEnv().notice, select);
}

export const useReadOnly = () => useEnv().readOnly;
export const useEditorStore = () => useEnv().store;
export const useEditorHistory = () => useEnv().history;
/** flash shows a message in the toolbar's status area; stable, so it can be a dependency. */
export const useFlash = () => useEnv().notice.getState().show;
