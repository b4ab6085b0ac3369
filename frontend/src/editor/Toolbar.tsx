import { useReactFlow } from "@xyflow/react";
import { FIT_OPTIONS } from "./Canvas";
import { useEditor, useReadOnly } from "./context";
import { LayoutControls } from "./LayoutControls";
import { NoticeArea } from "./NoticeArea";
import { TopicPicker } from "./TopicPicker";
import { useViewCentre } from "./useViewCentre";
import type { EditorActions } from "./useActions";

/**
 * The toolbar: it selects the few fields it shows (never the nodes), so a
 * drag does not re-render it. Its status area carries the editor's messages.
 */
export function Toolbar({ actions }: { actions: EditorActions }) {
  const readOnly = useReadOnly();
  const name = useEditor((s) => s.name);
  const rename = useEditor((s) => s.rename);
  const addWorker = useEditor((s) => s.addWorker);
  const addTopic = useEditor((s) => s.addTopic);
  const undo = useEditor((s) => s.undo);
  const canUndo = useEditor((s) => s.undoStack.length > 0);
  const dirty = useEditor((s) => s.dirty);
  const saved = useEditor((s) => s.pipelineId !== null);
  const flow = useReactFlow();
  const centre = useViewCentre();
  const { save, deployAll, deletePipeline, saving } = actions;
  return (
    <div className="toolbar">
      <input aria-label="pipeline name" value={name} disabled={readOnly} onChange={(e) => rename(e.target.value)} style={{ width: 160 }} />
      <button disabled={readOnly} onClick={() => addWorker(centre())}>Add Worker</button>
      <button disabled={readOnly} onClick={() => addTopic(undefined, centre())}>Add Topic</button>
      <TopicPicker />
      <LayoutControls />
      <button disabled={readOnly || !canUndo} onClick={undo} title="Ctrl+Z">Undo</button>
      <button onClick={() => void flow.fitView(FIT_OPTIONS)}>Fit</button>
      <button className="primary" disabled={readOnly || saving || !dirty} onClick={save}>{saving ? "Saving…" : "Save"}</button>
      <button disabled={readOnly || dirty || !saved} onClick={deployAll} title={dirty ? "Save first" : "Deploy every worker"}>Deploy all</button>
      <button className="danger" disabled={readOnly || !saved} onClick={deletePipeline} title="Delete this pipeline and its workers">Delete</button>
      {dirty && <span className="error">unsaved changes</span>}
      <NoticeArea />
    </div>
  );
}
