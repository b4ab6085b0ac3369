import { useEffect, useMemo, useState } from "react";
import { api } from "../api/client";
import { filterNames } from "../api/testnames";
import type { TopicInfo } from "../api/types";
import { useEditor, useReadOnly } from "./context";
import { useViewCentre } from "./useViewCentre";

/** The first cluster's topics, to add as nodes; those test runs left are hidden unless asked for. */
export function TopicPicker() {
  const readOnly = useReadOnly();
  const addTopic = useEditor((s) => s.addTopic);
  const showTest = useEditor((s) => s.showTestNames);
  const setShowTest = useEditor((s) => s.setShowTestNames);
  const centre = useViewCentre();
  const [topics, setTopics] = useState<TopicInfo[]>([]);
  useEffect(() => {
    api.clusters().then((cs) => (cs[0] ? api.topics(cs[0].id) : [])).then(setTopics).catch(() => setTopics([]));
  }, []);
  const { shown, hidden } = useMemo(
    () => filterNames(topics.filter((t) => !t.internal), (t) => t.name, { showTest, text: "" }), [topics, showTest]);
  return (
    <>
      <select aria-label="add an existing topic" disabled={readOnly || shown.length === 0} value=""
        onChange={(e) => e.target.value && addTopic(e.target.value, centre())}>
        <option value="">existing topic…</option>
        {shown.map((t) => <option key={t.name} value={t.name}>{t.name} ({t.partition_count})</option>)}
      </select>
      <label title="list the topics, functions and versions test runs left behind">
        <input type="checkbox" checked={showTest} aria-label="show test names" onChange={(e) => setShowTest(e.target.checked)} />
        test names{!showTest && hidden > 0 ? ` (${hidden} hidden)` : ""}
      </label>
    </>
  );
}
