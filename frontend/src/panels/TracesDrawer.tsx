import { useEffect, useState } from "react";
import { api, ApiError } from "../api/client";
import type { Trace, TraceSummary } from "../api/types";
import { formatDuration, formatStart } from "./traces";
import { Waterfall } from "./Waterfall";

/**
 * TracesDrawer is a worker's recent traces across the width of the editor:
 * the list on the left (when, how long, how many spans, which stages), the
 * chosen trace's waterfall on the right.
 */
export function TracesDrawer({ workerId, onClose }: { workerId: number; onClose: () => void }) {
  const [list, setList] = useState<TraceSummary[] | null>(null);
  const [trace, setTrace] = useState<Trace | null>(null);
  const [error, setError] = useState("");
  useEffect(() => {
    setList(null);
    setTrace(null);
    api.traces(workerId).then(setList).catch((e: ApiError) => setError(e.message));
  }, [workerId]);
  const open = (id: string) => api.trace(id).then(setTrace).catch((e: ApiError) => setError(e.message));
  return (
    <section className="traces-drawer" data-testid="traces" aria-label="traces">
      <header>
        <h3>Traces <span className="muted">of the last hour</span></h3>
        <button className="panel-close" title="Close traces" aria-label="close traces" onClick={onClose}>×</button>
      </header>
      <div className="traces-body">
        <ol className="trace-list">
          {error && <li className="error">{error}</li>}
          {list === null && !error && <li className="status-line">loading…</li>}
          {list?.length === 0 && <li className="status-line">No traces in the last hour.</li>}
          {list?.map((t) => (
            <li key={t.trace_id} className={trace?.trace_id === t.trace_id ? "current" : ""}>
              <a href="#" data-testid="trace-entry" onClick={(e) => { e.preventDefault(); void open(t.trace_id); }}>
                <span className="trace-start">{formatStart(t.start)}</span>
                <span className="trace-duration">{formatDuration(t.duration_us)}</span>
                <span>{t.span_count} spans</span>
                {t.errors > 0 && <span className="error">{t.errors} errors</span>}
              </a>
              <div className="trace-stages" title={t.root_operation}>{t.services.join(" → ")}</div>
            </li>
          ))}
        </ol>
        <div className="trace-detail">
          {trace ? <Waterfall trace={trace} /> : list && list.length > 0 && <div className="status-line">Choose a trace to see its spans.</div>}
        </div>
      </div>
    </section>
  );
}
