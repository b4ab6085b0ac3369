import { useEffect, useState } from "react";
import { api, ApiError } from "../../api/client";

/**
 * AllocationLogs is the end of one allocation's stdout or stderr, read
 * through the API from the Nomad client that runs it, when shown and on
 * Refresh (it does not follow). The runtime logs to stderr.
 */
export function AllocationLogs({ workerId, allocId }: { workerId: number; allocId: string }) {
  const [stream, setStream] = useState<"stderr" | "stdout">("stderr");
  const [text, setText] = useState<string | null>(null);
  const [error, setError] = useState("");
  const [tick, setTick] = useState(0);
  useEffect(() => {
    setError("");
    api.logs(workerId, allocId, stream).then((l) => setText(l.text)).catch((e: ApiError) => { setText(null); setError(e.message); });
  }, [workerId, allocId, stream, tick]);
  return (
    <div data-testid={`logs-${allocId}`}>
      <div className="actions">
        <select aria-label="log stream" value={stream} onChange={(e) => setStream(e.target.value as "stderr" | "stdout")} style={{ width: "auto" }}>
          <option value="stderr">stderr</option>
          <option value="stdout">stdout</option>
        </select>
        <button onClick={() => setTick((t) => t + 1)}>Refresh</button>
        <span className="muted">the last 16 KiB of allocation {allocId.slice(0, 8)}</span>
      </div>
      {error && <div className="error">{error}</div>}
      {text !== null && <pre className="logs">{text || `(nothing on ${stream} yet)`}</pre>}
    </div>
  );
}
