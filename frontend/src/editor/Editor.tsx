import { ReactFlowProvider } from "@xyflow/react";
import { useCallback, useEffect, useMemo, useState } from "react";
import { api, ApiError } from "../api/client";
import { createHistoryStore } from "../charts/history";
import { useGraphHistory } from "../charts/polling";
import { TracesDrawer } from "../panels/TracesDrawer";
import { WorkerPanel } from "../panels/WorkerPanel";
import { Canvas } from "./Canvas";
import { EditorContext, type EditorEnv } from "./context";
import { createLiveStore, useLivePoll } from "./live";
import { createNoticeStore } from "./notice";
import { nodeById } from "../pipeline/model";
import { createEditorStore } from "./store";
import { Toolbar } from "./Toolbar";
import { useEditorActions } from "./useActions";
import { useEditorKeys } from "./useEditorKeys";
import { useLeaveGuard } from "./useLeaveGuard";
import { useStore } from "zustand";

/**
 * Editor is one pipeline: the toolbar, the canvas, and over its right
 * edge the selected worker's panel and its traces. It owns the editor's
 * stores and subscribes only to what decides its layout (which worker is
 * selected, which pipeline is saved), never to the nodes.
 */
export function Editor({ pipelineId, readOnly }: { pipelineId: number | null; readOnly: boolean }) {
  const env: EditorEnv = useMemo(() => ({
    store: createEditorStore(), readOnly, live: createLiveStore(), history: createHistoryStore(), notice: createNoticeStore(),
  }), [readOnly]);
  const { store, live, history, notice } = env;
  const workerIds = useStore(store, (s) => s.workerIds);
  const savedId = useStore(store, (s) => s.pipelineId);
  const selected = useStore(store, (s) => {
    const n = s.selected === null ? undefined : nodeById(s.nodes, s.selected);
    return n?.type === "worker" ? n.id : null;
  });
  const [tracesOf, setTracesOf] = useState<number | null>(null);
  const actions = useEditorActions(env);

  // An existing pipeline is asked about once it is loaded; a new one once saved.
  useLivePoll(live, savedId ?? (pipelineId === null ? null : undefined), JSON.stringify(workerIds));
  const deployed = useStore(live, (l) => Object.entries(workerIds).filter(([name]) => l.status[name]?.job).map(([, id]) => id).join(","));
  useGraphHistory(history, deployed ? deployed.split(",").map(Number) : []);

  useEffect(() => {
    if (pipelineId === null) store.getState().reset("new-pipeline");
    else api.pipeline(pipelineId).then((p) => store.getState().load(p)).catch((e: ApiError) => notice.getState().show(e.message, "error"));
  }, [pipelineId, store, notice]);
  useLeaveGuard(store);
  const close = useCallback(() => {
    setTracesOf(null);
    store.getState().select(null);
  }, [store]);
  useEditorKeys(store, readOnly, close);
  // Another worker's panel starts without the previous one's traces.
  useEffect(() => setTracesOf(null), [selected]);

  return (
    <EditorContext.Provider value={env}>
      <ReactFlowProvider>
        <div className="editor-page">
          <Toolbar actions={actions} />
          <div className="editor">
            <div className="editor-main">
              <Canvas />
              {selected && (
                <aside className="panel" aria-label="worker panel">
                  <button className="panel-close" title="Close (Esc)" aria-label="close panel" onClick={close}>×</button>
                  <WorkerPanel nodeId={selected} saveError={actions.saveError} onTraces={setTracesOf} />
                </aside>
              )}
            </div>
            {tracesOf !== null && <TracesDrawer workerId={tracesOf} onClose={() => setTracesOf(null)} />}
          </div>
        </div>
      </ReactFlowProvider>
    </EditorContext.Provider>
  );
}
