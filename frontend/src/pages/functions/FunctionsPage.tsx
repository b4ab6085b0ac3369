import { useCallback, useEffect, useMemo, useState } from "react";
import { api, ApiError } from "../../api/client";
import type { FunctionVersion } from "../../api/types";
import { bytes, isTestVersion } from "../workers/format";
import { UploadForm } from "./UploadForm";
import "../workers/workers.css";

/**
 * FunctionsPage lists every function with its versions (sha256, size, who
 * uploaded it and when, which workers use it) and uploads new ones. The
 * versions the end-to-end tests upload are hidden unless asked for.
 */
export function FunctionsPage({ canUpload }: { canUpload: boolean }) {
  const [list, setList] = useState<FunctionVersion[] | null>(null);
  const [error, setError] = useState("");
  const [notice, setNotice] = useState("");
  const [showTests, setShowTests] = useState(false);
  const load = useCallback(() => {
    api.functions().then((fs) => { setList(fs); setError(""); }).catch((e: ApiError) => setError(e.message));
  }, []);
  useEffect(load, [load]);

  const all = list ?? [];
  const hidden = all.filter(isTestVersion).length;
  const byName = useMemo(() => {
    const m = new Map<string, FunctionVersion[]>();
    for (const f of all) if (showTests || !isTestVersion(f)) m.set(f.name, [...(m.get(f.name) ?? []), f]);
    return [...m.entries()].sort(([a], [b]) => a.localeCompare(b));
  }, [all, showTests]);

  async function remove(f: FunctionVersion) {
    if (!window.confirm(`Delete ${f.name} ${f.version}? Its binary goes when no other version has the same bytes.`)) return;
    try {
      await api.deleteFunction(f.name, f.version);
      setNotice(`Deleted ${f.name} ${f.version}.`);
      load();
    } catch (e) {
      setNotice(`Not deleted: ${(e as ApiError).message}`);
    }
  }

  return (
    <div className="page" data-testid="functions-page">
      <h2>Functions</h2>
      {canUpload && <UploadForm names={[...new Set(all.map((f) => f.name))]} started={() => setNotice("")} uploaded={(f) => { setNotice(`Uploaded ${f.name} ${f.version}.`); load(); }} />}
      {notice && <div className="status-line" role="status" data-testid="functions-notice">{notice}</div>}
      {error && <div className="error">{error}</div>}
      <div className="actions">
        <label className="inline">
          <input type="checkbox" checked={showTests} aria-label="show test versions" onChange={(e) => setShowTests(e.target.checked)} />
          show test versions (0.0.0-e2e…, e2e-…){hidden > 0 && !showTests ? `: ${hidden} hidden` : ""}
        </label>
      </div>
      {list && byName.length === 0 && <p className="status-line">No functions{all.length > 0 ? " but test versions" : " yet: upload one"}.</p>}
      {byName.map(([name, versions]) => (
        <div className="card" key={name} data-testid={`function-${name}`} style={{ marginBottom: 12 }}>
          <h3>{name}</h3>
          <table className="list compact">
            <thead><tr><th>Version</th><th>Kind</th><th>Settings</th><th>sha256</th><th className="num">Size</th><th>Uploaded by</th><th>When</th><th>Used by</th><th /></tr></thead>
            <tbody>
              {[...versions].reverse().map((f) => (
                <tr key={f.version} data-testid={`version-${f.name}-${f.version}`}>
                  <td>{f.version}</td>
                  <td>{KIND[f.kind] ?? f.kind}</td>
                  <td title={f.metadata_schema ? JSON.stringify(f.metadata_schema, null, 2) : "no schema declared: any JSON object is accepted"}>
                    {settingNames(f.metadata_schema) ?? <span className="muted">any</span>}</td>
                  <td title={f.sha256}><code>{f.sha256.slice(0, 12)}…</code></td>
                  <td className="num">{bytes(f.size_bytes)}</td>
                  <td>{f.uploaded_by ?? "–"}</td>
                  <td title={f.created_at}>{new Date(f.created_at).toLocaleString()}</td>
                  <td>{f.used_by && f.used_by.length > 0
                    ? f.used_by.map((u, i) => <span key={u.id}>{i > 0 && ", "}<a href={`#/workers/${u.id}`}>{u.name}</a></span>)
                    : <span className="muted">no worker</span>}</td>
                  <td>{canUpload && (f.used_by?.length ?? 0) === 0 && <button onClick={() => remove(f)}>Delete</button>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ))}
    </div>
  );
}

const KIND: Record<string, string> = { go: "Go binary", python: "Python module", "python-archive": "Python archive" };

/** settingNames lists the metadata fields a version's JSON Schema declares, or null when it declares none. */
function settingNames(schema: unknown): string | null {
  const props = (schema as { properties?: Record<string, unknown> } | null)?.properties;
  return props && Object.keys(props).length > 0 ? Object.keys(props).join(", ") : null;
}
