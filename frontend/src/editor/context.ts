import { createContext, useContext } from "react";
import { useStore } from "zustand";
import type { WorkerMetrics, WorkerStatus } from "../api/types";
import type { HistoryState, HistoryStore } from "../charts/history";
import type { EditorState, EditorStore } from "./store";

/** Live status of the pipeline's deployed workers, by worker name. */
export interface Live {
  status: Record<string, WorkerStatus>;
  metrics: Record<string, WorkerMetrics>;
}

export interface EditorEnv {
  store: EditorStore;
  readOnly: boolean;
  live: Live;
  /** the deployed workers' last hour, apart from the editor's store so that its refreshes re-render only charts */
  history: HistoryStore;
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

/** useHistory selects from the editor's history of lag and rate. */
export function useHistory<T>(select: (s: HistoryState) => T): T {
  return useStore(useEnv().history, select);
}

export const useReadOnly = () => useEnv().readOnly;
export const useLive = () => useEnv().live;
export const useEditorStore = () => useEnv().store;
export const useEditorHistory = () => useEnv().history;
