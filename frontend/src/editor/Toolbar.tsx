import { useReactFlow } from "@xyflow/react";
import { useEffect, useState } from "react";
import { api } from "../api/client";
import type { Cluster, TopicInfo } from "../api/types";
import { useEditor, useReadOnly } from "./context";

export function Toolbar({ onSave, onDeployAll, saving }: { onSave: () => void; onDeployAll: () => void; saving: boolean }) {
  const readOnly = useReadOnly();
  const s = useEditor((st) => st);
  const flow = useReactFlow();
  const [topics, setTopics] = useState<TopicInfo[]>([]);
  useEffect(() => {
    api.clusters().then((cs: Cluster[]) => (cs[0] ? api.topics(cs[0].id) : [])).then(setTopics).catch(() => setTopics([]));
  }, []);
  return (
    <div className="toolbar">
      <input aria-label="pipeline name" value={s.name} disabled={readOnly} onChange={(e) => s.rename(e.target.value)} style={{ width: 160 }} />
      <button disabled={readOnly} onClick={() => s.addWorker()}>Add Worker</button>
      <button disabled={readOnly} onClick={() => s.addTopic()}>Add Topic</button>
      <select aria-label="add an existing topic" disabled={readOnly || topics.length === 0} value=""
        onChange={(e) => e.target.value && s.addTopic(e.target.value)}>
        <option value="">existing topic…</option>
        {topics.filter((t) => !t.internal).map((t) => <option key={t.name} value={t.name}>{t.name} ({t.partition_count})</option>)}
      </select>
      <button disabled={readOnly} onClick={() => s.setLayout({ direction: "TB" })}>Vertical layout</button>
      <button disabled={readOnly} onClick={() => s.setLayout({ direction: "LR" })}>Horizontal layout</button>
      <label>nodes
        <input type="range" min={10} max={200} value={s.layout.node_sep} disabled={readOnly}
          onChange={(e) => s.setLayout({ node_sep: Number(e.target.value) })} />
      </label>
      <label>ranks
        <input type="range" min={20} max={300} value={s.layout.rank_sep} disabled={readOnly}
          onChange={(e) => s.setLayout({ rank_sep: Number(e.target.value) })} />
      </label>
      <button disabled={readOnly || s.undoStack.length === 0} onClick={() => s.undo()} title="Ctrl+Z">Undo</button>
      <button onClick={() => flow.fitView({ padding: 0.2 })}>Fit</button>
      <button className="primary" disabled={readOnly || saving || !s.dirty} onClick={onSave}>{saving ? "Saving…" : "Save"}</button>
      <button disabled={readOnly || s.dirty || s.pipelineId === null} onClick={onDeployAll}
        title={s.dirty ? "Save first" : "Deploy every worker"}>Deploy all</button>
      {s.dirty && <span className="error">unsaved changes</span>}
    </div>
  );
}
