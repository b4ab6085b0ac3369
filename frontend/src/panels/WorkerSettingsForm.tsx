import { useEffect, useState } from "react";
import type { FunctionVersion, WorkerSettings } from "../api/types";
import { parseMetadata } from "./metadata";

interface Props {
  /** the worker's name, for the default dead-letter topic */
  name: string;
  value: WorkerSettings;
  functions: FunctionVersion[];
  readOnly: boolean;
  /** the API's refusals by field name ("timeout_seconds") */
  errors: Record<string, string>;
  onChange: (patch: WorkerSettings) => void;
  /** a new key takes the metadata text from value again (another worker shown) */
  resetKey: string;
}

/**
 * WorkerSettingsForm edits a worker's settings, bound to nothing but its
 * props: the editor's panel and the worker page both hand it a worker's
 * settings and take patches back. Metadata is edited as text and passed
 * on only when it parses.
 */
export function WorkerSettingsForm({ name, value: st, functions: fns, readOnly, errors: errs, onChange: set, resetKey }: Props) {
  const [metaText, setMetaText] = useState("");
  const [metaError, setMetaError] = useState("");
  useEffect(() => {
    setMetaText(st.metadata ? JSON.stringify(st.metadata, null, 2) : "");
    setMetaError("");
  }, [resetKey]); // eslint-disable-line react-hooks/exhaustive-deps

  const field = (key: keyof WorkerSettings) => errs[key] && <div className="error">{errs[key]}</div>;
  const versions = fns.filter((f) => f.name === st.function);
  return (
    <>
      <label>function</label>
      <select value={st.function ?? ""} disabled={readOnly} aria-label="function"
        onChange={(e) => set({ function: e.target.value || undefined, function_version: fns.filter((f) => f.name === e.target.value).at(-1)?.version })}>
        <option value="">(none)</option>
        {[...new Set(fns.map((f) => f.name))].map((n) => <option key={n}>{n}</option>)}
      </select>
      {field("function")}
      <label>version</label>
      <select value={st.function_version ?? ""} disabled={readOnly || !st.function} aria-label="function version"
        onChange={(e) => set({ function_version: e.target.value })}>
        {versions.map((f) => <option key={f.version}>{f.version}</option>)}
      </select>
      {field("function_version")}
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
      <input value={st.join_key ?? "id"} disabled={readOnly} aria-label="join key" onChange={(e) => set({ join_key: e.target.value })} />
      {field("join_key")}
      <label>expiry topic</label>
      <input value={st.expiry_topic ?? ""} disabled={readOnly} aria-label="expiry topic" onChange={(e) => set({ expiry_topic: e.target.value || undefined })} />
      {field("expiry_topic")}
      <label>dead-letter topic (default {name}.dlq)</label>
      <input value={st.dead_letter_topic ?? ""} disabled={readOnly} aria-label="dead-letter topic"
        onChange={(e) => set({ dead_letter_topic: e.target.value || undefined })} />
      {field("dead_letter_topic")}
      <label>tombstone TTL (seconds; empty: 3600)</label>
      <input type="number" min={60} max={604800} value={st.tombstone_ttl_seconds || ""} placeholder="3600" disabled={readOnly}
        aria-label="tombstone TTL" title="How long a completed id drops its redelivered fragments. Redis keeps one key per id for this long."
        onChange={(e) => set({ tombstone_ttl_seconds: e.target.value === "" ? undefined : Number(e.target.value) })} />
      {field("tombstone_ttl_seconds")}
    </>
  );
}
