import { useCallback, useState } from "react";
import { api, ApiError } from "../api/client";
import type { EditorEnv } from "./context";
import { graphOf } from "./store";

export const DELETE_QUESTION = (name: string) =>
  `Delete pipeline "${name}" and its workers? Their Nomad jobs are stopped; the topics and their data stay.`;

export interface EditorActions {
  save(): Promise<void>;
  deployAll(): Promise<void>;
  /** asks first; returns whether it deleted */
  deletePipeline(): Promise<boolean>;
  saving: boolean;
  /** the last save's refusal, for the panel's fields */
  saveError: ApiError | null;
}

/** What the toolbar's buttons do to the pipeline as a whole, each reporting in the status area. */
export function useEditorActions({ store, notice }: EditorEnv): EditorActions {
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState<ApiError | null>(null);
  const flash = notice.getState().show;

  const save = useCallback(async () => {
    const st = store.getState();
    setSaving(true);
    setSaveError(null);
    try {
      const p = st.pipelineId === null
        ? await api.createPipeline(st.name, graphOf(st))
        : await api.savePipeline(st.pipelineId, st.name, graphOf(st), st.version ?? 0);
      store.getState().saved(p);
      if (st.pipelineId === null) window.history.replaceState(window.history.state, "", `#/pipelines/${p.id}`);
      flash("Saved.");
    } catch (e) {
      const err = e as ApiError;
      setSaveError(err);
      flash(err.status === 409 && err.field === "version"
        ? "Changed by someone else since you loaded it: reload to see their version."
        : `Not saved: ${err.field ? err.field + ": " : ""}${err.message}`, "error");
    } finally {
      setSaving(false);
    }
  }, [store, flash]);

  const deployAll = useCallback(async () => {
    const id = store.getState().pipelineId;
    if (id === null) return;
    try {
      const res = await api.deployPipeline(id);
      const failed = res.filter((r) => r.error);
      if (failed.length) flash(failed.map((r) => `${r.worker}: ${r.error}`).join("; "), "error");
      else flash("Deploying: watch the workers turn healthy.");
    } catch (e) {
      flash((e as ApiError).message, "error");
    }
  }, [store, flash]);

  const deletePipeline = useCallback(async () => {
    const st = store.getState();
    if (st.pipelineId === null || !window.confirm(DELETE_QUESTION(st.name))) return false;
    try {
      await api.deletePipeline(st.pipelineId);
    } catch (e) {
      flash(`Not deleted: ${(e as ApiError).message}`, "error");
      return false;
    }
    store.getState().discard();
    window.location.hash = "#/";
    return true;
  }, [store, flash]);

  return { save, deployAll, deletePipeline, saving, saveError };
}
