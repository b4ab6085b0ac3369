import { Background, Controls, ReactFlow, ReactFlowProvider, type Connection } from "@xyflow/react";
import { useCallback, useEffect, useMemo, useState } from "react";
import { api, ApiError } from "../api/client";
import { createHistoryStore } from "../charts/history";
import { HistoryMissing } from "./HistoryMissing";
import { useGraphHistory } from "../charts/polling";
import { TracesPanel } from "../panels/TracesPanel";
import { WorkerPanel } from "../panels/WorkerPanel";
import { EditorContext, type EditorEnv } from "./context";
import { DeletableEdge } from "./DeletableEdge";
import { TopicNode } from "./nodes/topic/TopicNode";
import { WorkerNode } from "./nodes/worker/WorkerNode";
import { createEditorStore, graphOf } from "./store";
import { Toolbar } from "./Toolbar";
import { useLiveStatus } from "./useLive";
import { useStore } from "zustand";

const nodeTypes = { worker: WorkerNode, topic: TopicNode };
const edgeTypes = { deletable: DeletableEdge };

export function Editor({ pipelineId, readOnly }: { pipelineId: number | null; readOnly: boolean }) {
  const store = useMemo(() => createEditorStore(), []);
  const s = useStore(store);
  const [notice, setNotice] = useState("");
  const [saveError, setSaveError] = useState<ApiError | null>(null);
  const [saving, setSaving] = useState(false);
  const [tracesOf, setTracesOf] = useState<number | null>(null);
  const history = useMemo(() => createHistoryStore(), []);
  const live = useLiveStatus(s.workerIds);
  useGraphHistory(history, Object.entries(s.workerIds).filter(([name]) => live.status[name]?.job).map(([, id]) => id));
  const env: EditorEnv = useMemo(() => ({ store, readOnly, live, history }), [store, readOnly, live, history]);

  useEffect(() => {
    if (pipelineId === null) store.getState().reset("new-pipeline");
    else api.pipeline(pipelineId).then((p) => store.getState().load(p)).catch((e: ApiError) => setNotice(e.message));
  }, [pipelineId, store]);

  // Unsaved changes: warn before leaving the page, or this pipeline for another.
  useEffect(() => {
    const here = window.location.hash;
    const warn = (e: BeforeUnloadEvent) => { if (store.getState().dirty) e.preventDefault(); };
    const leaving = (e: HashChangeEvent) => {
      const st = store.getState();
      if (!st.dirty || new URL(e.newURL).hash === `#/pipelines/${st.pipelineId}`) return;
      if (!window.confirm("This pipeline has unsaved changes. Leave it anyway?")) {
        e.stopImmediatePropagation();
        window.history.replaceState(null, "", here);
      }
    };
    window.addEventListener("beforeunload", warn);
    window.addEventListener("hashchange", leaving, true);
    return () => {
      window.removeEventListener("beforeunload", warn);
      window.removeEventListener("hashchange", leaving, true);
    };
  }, [store]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (readOnly || (e.target as HTMLElement).closest("input,textarea,select")) return;
      if ((e.ctrlKey || e.metaKey) && e.key === "z") { store.getState().undo(); e.preventDefault(); }
      if (e.key === "Delete" || e.key === "Backspace") {
        const st = store.getState();
        st.remove(st.nodes.filter((n) => n.selected).map((n) => n.id), st.edges.filter((x) => x.selected).map((x) => x.id));
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [store, readOnly]);

  const flash = useCallback((msg: string) => { setNotice(msg); setTimeout(() => setNotice(""), 5000); }, []);

  const onConnect = useCallback((c: Connection) => {
    const reason = store.getState().connect(c);
    if (reason) flash(reason);
  }, [store, flash]);

  async function save() {
    const st = store.getState();
    setSaving(true);
    setSaveError(null);
    try {
      const p = st.pipelineId === null
        ? await api.createPipeline(st.name, graphOf(st))
        : await api.savePipeline(st.pipelineId, st.name, graphOf(st), st.version ?? 0);
      store.getState().saved(p);
      if (st.pipelineId === null) window.history.replaceState(null, "", `#/pipelines/${p.id}`);
      flash("Saved.");
    } catch (e) {
      const err = e as ApiError;
      setSaveError(err);
      flash(err.status === 409 && err.field === "version" ? "Changed by someone else since you loaded it: reload to see their version." : `Not saved: ${err.field ? err.field + ": " : ""}${err.message}`);
    } finally {
      setSaving(false);
    }
  }

  async function deployAll() {
    if (s.pipelineId === null) return;
    try {
      const res = await api.deployPipeline(s.pipelineId);
      const failed = res.filter((r) => r.error);
      flash(failed.length ? failed.map((r) => `${r.worker}: ${r.error}`).join("; ") : "Deploying: watch the workers turn healthy.");
    } catch (e) {
      flash((e as ApiError).message);
    }
  }

  const selected = s.nodes.find((n) => n.id === s.selected && n.type === "worker");
  return (
    <EditorContext.Provider value={env}>
      <ReactFlowProvider>
        <Toolbar onSave={save} onDeployAll={deployAll} saving={saving} />
        <div className="editor">
          <div className="canvas">
            {notice && <div className="notice" role="status">{notice}</div>}
            <HistoryMissing />
            <ReactFlow nodes={s.nodes} edges={s.edges} nodeTypes={nodeTypes} edgeTypes={edgeTypes}
              onNodesChange={s.onNodesChange} onEdgesChange={s.onEdgesChange} onConnect={onConnect}
              onNodeClick={(_, n) => s.select(n.id)} onPaneClick={() => s.select(null)}
              nodesConnectable={!readOnly} nodesDraggable={!readOnly} deleteKeyCode={null} fitView>
              <Background />
              <Controls showInteractive={false} />
            </ReactFlow>
          </div>
          {selected && (
            <div className="panel">
              <WorkerPanel nodeId={selected.id} saveError={saveError} onTraces={setTracesOf} flash={flash} />
              {tracesOf !== null && <TracesPanel workerId={tracesOf} />}
            </div>
          )}
        </div>
      </ReactFlowProvider>
    </EditorContext.Provider>
  );
}
