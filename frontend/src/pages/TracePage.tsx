import { useEffect, useState } from "react";
import { api, ApiError } from "../api/client";
import type { Trace } from "../api/types";
import { Waterfall } from "../panels/Waterfall";

/** #/traces/<trace id>: one trace as a waterfall of its spans, from Jaeger through the API. */
export function TracePage({ traceId }: { traceId: string }) {
  const [trace, setTrace] = useState<Trace | null>(null);
  const [error, setError] = useState("");
  useEffect(() => {
    setTrace(null);
    setError("");
    api.trace(traceId).then(setTrace).catch((e: ApiError) =>
      setError(e.status === 404 ? `Jaeger has no trace ${traceId}: it was not sampled, has not been flushed yet, or is older than Jaeger keeps.` : e.message));
  }, [traceId]);
  return (
    <div className="page" data-testid="trace-page">
      <p><a href="#" onClick={(e) => { e.preventDefault(); window.history.back(); }}>← Back</a></p>
      <h2>Trace <span className="mono">{traceId}</span></h2>
      {error && <div className="error" role="alert">{error}</div>}
      {!trace && !error && <p className="status-line">Loading…</p>}
      {trace && trace.spans.length > 0 && <Waterfall trace={trace} />}
      {trace && trace.spans.length === 0 && <p className="status-line">The trace has no spans.</p>}
    </div>
  );
}
