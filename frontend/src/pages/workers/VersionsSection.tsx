import { useEffect, useState } from "react";
import { api, ApiError } from "../../api/client";
import type { ConfigVersion, Worker } from "../../api/types";
import { ConfirmDialog } from "./ConfirmDialog";
import { VersionDiff } from "./VersionDiff";

interface Props {
  worker: Worker;
  readOnly: boolean;
  rolledBack: (w: Worker, message: string) => void;
}

/**
 * VersionsSection lists the worker's config versions, diffs any two (by
 * default the one before the current and the current), and rolls back to
 * one: the API writes its settings as a new version, and the reconciler
 * rolls a running worker's allocations onto it.
 */
export function VersionsSection({ worker: w, readOnly, rolledBack }: Props) {
  const [versions, setVersions] = useState<ConfigVersion[]>([]);
  const [error, setError] = useState("");
  const [pick, setPick] = useState<{ a: number; b: number } | null>(null);
  const [target, setTarget] = useState<ConfigVersion | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    api.versions(w.id).then((vs) => { setVersions(vs); setPick(null); setError(""); }).catch((e: ApiError) => setError(e.message));
  }, [w.id, w.config_version]);

  const current = versions.find((v) => v.version === w.config_version) ?? versions.at(-1);
  const a = versions.find((v) => v.version === pick?.a) ?? versions.at(-2);
  const b = versions.find((v) => v.version === pick?.b) ?? current;
  const choose = (side: "a" | "b", version: number) => setPick({ a: a?.version ?? version, b: b?.version ?? version, [side]: version });

  async function rollback(v: ConfigVersion) {
    setBusy(true);
    try {
      const next = await api.rollback(w.id, v.version);
      setTarget(null);
      rolledBack(next, `Rolled back to the settings of version ${v.version}, saved as version ${next.config_version}.`);
    } catch (e) {
      setError((e as ApiError).message);
      setTarget(null);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="card" data-testid="versions">
      <h3>Config versions</h3>
      {error && <div className="error">{error}</div>}
      <table className="list compact">
        <thead><tr><th title="diff from">A</th><th title="diff to">B</th><th>Version</th><th>Saved</th><th>By</th><th /></tr></thead>
        <tbody>
          {[...versions].reverse().map((v) => (
            <tr key={v.version} data-testid={`version-${v.version}`} className={v.version === current?.version ? "selected" : undefined}>
              <td><input type="radio" name="diff-a" aria-label={`diff from version ${v.version}`} checked={a?.version === v.version} onChange={() => choose("a", v.version)} /></td>
              <td><input type="radio" name="diff-b" aria-label={`diff to version ${v.version}`} checked={b?.version === v.version} onChange={() => choose("b", v.version)} /></td>
              <td>{v.version}{v.version === current?.version && <span className="muted"> (current)</span>}</td>
              <td title={v.created_at}>{new Date(v.created_at).toLocaleString()}</td>
              <td>{v.created_by_email ?? (v.created_by === null ? "–" : `user ${v.created_by}`)}</td>
              <td>
                {v.version !== current?.version && !v.snapshot.deleted && (
                  <button disabled={readOnly || busy} onClick={() => setTarget(v)}>Rollback</button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {a && b && a.version !== b.version && <VersionDiff a={a.version < b.version ? a : b} b={a.version < b.version ? b : a} />}
      {versions.length === 1 && <div className="status-line">Only one version so far: a saved change makes the next.</div>}
      {target && current && (
        <ConfirmDialog title={`Roll back ${w.name} to version ${target.version}?`} confirm={`Roll back to version ${target.version}`} busy={busy}
          onCancel={() => setTarget(null)} onConfirm={() => rollback(target)}>
          <p>The settings of version {target.version} are saved as version {current.version + 1}; the history keeps every version.
            {w.desired_state === "running" ? " The worker is running: the reconciler rolls its allocations onto them." : " The worker is stopped: they apply at its next deploy."}
            {" "}Autoscaling is not versioned and stays as it is.</p>
          {w.pipeline_id !== null && <p>This worker belongs to pipeline {w.pipeline_id}: the pipeline&apos;s next save writes its graph&apos;s settings again.</p>}
          <VersionDiff a={current} b={target} />
        </ConfirmDialog>
      )}
    </div>
  );
}
