import { useEffect, useState } from "react";
import type { WorkerSettings } from "../api/types";
import { AutoscaleFields } from "./AutoscaleFields";
import { FunctionPicker } from "./FunctionPicker";
import { parseMetadata } from "./metadata";

interface Props {
  nodeId: string;
  name: string;
  settings: WorkerSettings;
  readOnly: boolean;
  /** the last save's refusals by field of this worker */
  errors: Record<string, string>;
  onChange: (patch: WorkerSettings) => void;
  /** list the functions only tests registered too (the editor's "test names") */
  showTestNames: boolean;
  /** include the autoscale fields (the worker page shows them in a card of their own) */
  autoscale?: boolean;
}

/** The settings of a worker that travel in the pipeline's graph. */
export function WorkerSettingsForm({ nodeId, name, settings: st, readOnly, errors, onChange: set, showTestNames, autoscale = true }: Props) {
  const [metaText, setMetaText] = useState("");
  const [metaError, setMetaError] = useState("");
  useEffect(() => {
    setMetaText(st.metadata ? JSON.stringify(st.metadata, null, 2) : "");
    setMetaError("");
  }, [nodeId]); // eslint-disable-line react-hooks/exhaustive-deps
  const field = (f: keyof WorkerSettings) => errors[f] && <div className="error">{errors[f]}</div>;
  return (
    <>
      <FunctionPicker settings={st} readOnly={readOnly} onChange={set} error={field} showTest={showTestNames} />
      <label>metadata (JSON object)</label>
      <textarea rows={4} value={metaText} disabled={readOnly} aria-label="metadata"
        onChange={(e) => {
          setMetaText(e.target.value);
          const p = parseMetadata(e.target.value);
          setMetaError(p.error ?? "");
          if (!p.error) set({ metadata: p.value });
        }} />
      {metaError && <div className="error">{metaError}</div>}
      {field("metadata")}
      <label>join timeout (seconds)</label>
      <input type="number" min={1} max={86400} value={st.timeout_seconds ?? 240} disabled={readOnly} aria-label="timeout"
        onChange={(e) => set({ timeout_seconds: Number(e.target.value) })} />
      {field("timeout_seconds")}
      <label>join key</label>
      <input value={st.join_key ?? "id"} disabled={readOnly} onChange={(e) => set({ join_key: e.target.value })} />
      {field("join_key")}
      <label>expiry topic</label>
      <input value={st.expiry_topic ?? ""} disabled={readOnly} onChange={(e) => set({ expiry_topic: e.target.value || undefined })} />
      {field("expiry_topic")}
      <label>dead-letter topic (default {name}.dlq)</label>
      <input value={st.dead_letter_topic ?? ""} disabled={readOnly} onChange={(e) => set({ dead_letter_topic: e.target.value || undefined })} />
      {field("dead_letter_topic")}
      <label>tombstone TTL (seconds; empty: 3600)</label>
      <input type="number" min={60} max={604800} value={st.tombstone_ttl_seconds || ""} placeholder="3600" disabled={readOnly}
        aria-label="tombstone TTL" title="How long a completed id drops its redelivered fragments. Redis keeps one key per id for this long."
        onChange={(e) => set({ tombstone_ttl_seconds: e.target.value === "" ? undefined : Number(e.target.value) })} />
      {field("tombstone_ttl_seconds")}
      {autoscale && <AutoscaleFields value={st.autoscale} readOnly={readOnly} errors={errors} onChange={(a) => set({ autoscale: a })} />}
    </>
  );
}
