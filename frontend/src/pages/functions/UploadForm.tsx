import { useRef, useState } from "react";
import { ApiError, uploadFunction, type UploadProgress } from "../../api/client";
import type { FunctionVersion } from "../../api/types";
import { bytes } from "../workers/format";

/**
 * UploadForm uploads a new version of a function from a file picker,
 * with the bytes sent so far; the API's reason for a refusal (not an ELF
 * binary, a version that exists) is shown beside the field it names.
 */
interface Props {
  names: string[];
  started: () => void;
  uploaded: (f: FunctionVersion) => void;
}

export function UploadForm({ names, started, uploaded }: Props) {
  const [name, setName] = useState("");
  const [version, setVersion] = useState("");
  const [file, setFile] = useState<File | null>(null);
  const [progress, setProgress] = useState<UploadProgress | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const abort = useRef<(() => void) | null>(null);
  const sending = progress !== null;

  async function send() {
    if (!file) return;
    started();
    setError(null);
    setProgress({ loaded: 0, total: file.size });
    const up = uploadFunction(name.trim(), version.trim(), file, setProgress);
    abort.current = up.abort;
    try {
      const f = await up.done;
      uploaded(f);
      setVersion("");
      setFile(null);
    } catch (e) {
      setError(e as ApiError);
    } finally {
      abort.current = null;
      setProgress(null);
    }
  }

  const reason = (field: string) => error?.field === field && <div className="error" data-testid={`upload-error-${field}`}>{error.message}</div>;
  const pct = progress && progress.total > 0 ? Math.round((100 * progress.loaded) / progress.total) : 0;
  return (
    <div className="card" data-testid="upload-form" style={{ maxWidth: 520 }}>
      <h3>Upload a version</h3>
      <label>function name</label>
      <input list="function-names" value={name} aria-label="function name" placeholder="shout" onChange={(e) => setName(e.target.value)} />
      <datalist id="function-names">{names.map((n) => <option key={n} value={n} />)}</datalist>
      {reason("name")}
      <label>version</label>
      <input value={version} aria-label="function version" placeholder="1.0.1" onChange={(e) => setVersion(e.target.value)} />
      {reason("version")}
      <label>binary (built for Linux: GOOS=linux go build)</label>
      <input type="file" aria-label="function binary" onChange={(e) => setFile(e.target.files?.[0] ?? null)} />
      {file && <div className="muted">{file.name}, {bytes(file.size)}</div>}
      {reason("file")}
      {error && !["name", "version", "file"].includes(error.field ?? "") && <div className="error" data-testid="upload-error">{error.message}</div>}
      {progress && (
        <div data-testid="upload-progress">
          <div className="progress"><div style={{ width: `${pct}%` }} /></div>
          <div className="muted">{bytes(progress.loaded)} of {bytes(progress.total)} ({pct}%)</div>
        </div>
      )}
      <div className="actions">
        <button className="primary" disabled={!file || !name.trim() || !version.trim() || sending} onClick={send}>Upload</button>
        {sending && <button onClick={() => abort.current?.()}>Cancel</button>}
      </div>
    </div>
  );
}
