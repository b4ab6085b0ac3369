import { useEffect, useState, type ReactNode } from "react";
import { api } from "../api/client";
import type { FunctionVersion, WorkerSettings } from "../api/types";
import { defaultVersion, functionNames, isTestVersion, versionsOf } from "./functions";

interface Props {
  settings: WorkerSettings;
  readOnly: boolean;
  onChange: (patch: WorkerSettings) => void;
  error: (field: keyof WorkerSettings) => ReactNode;
  /** list the functions only tests registered too */
  showTest: boolean;
}

/**
 * The worker's function and version. Choosing a function picks its newest
 * version that no test registered (none, when tests registered them all);
 * the tests' versions stay listed, last and marked, for whoever means them.
 */
export function FunctionPicker({ settings: st, readOnly, onChange, error, showTest }: Props) {
  const [fns, setFns] = useState<FunctionVersion[]>([]);
  useEffect(() => { api.functions().then(setFns).catch(() => setFns([])); }, []);
  const versions = versionsOf(fns, st.function);
  return (
    <>
      <label>function</label>
      <select value={st.function ?? ""} disabled={readOnly} aria-label="function"
        onChange={(e) => onChange({ function: e.target.value || undefined, function_version: defaultVersion(fns, e.target.value || undefined) })}>
        <option value="">(none)</option>
        {functionNames(fns, showTest, st.function).map((n) => <option key={n}>{n}</option>)}
      </select>
      {error("function")}
      <label>version</label>
      <select value={st.function_version ?? ""} disabled={readOnly || !st.function} aria-label="function version"
        onChange={(e) => onChange({ function_version: e.target.value || undefined })}>
        <option value="">{versions.length ? "choose a version…" : "(none)"}</option>
        {versions.map((f) => (
          <option key={f.version} value={f.version}>{f.version}{isTestVersion(f.version) ? " (test)" : ""}</option>
        ))}
      </select>
      {error("function_version")}
    </>
  );
}
