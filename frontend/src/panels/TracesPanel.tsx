import { useEffect, useState } from "react";
import { api, ApiError } from "../api/client";
import type { Span, Trace, TraceSummary } from "../api/types";

/** Recent traces of a worker, and one trace as a waterfall of spans across stages. */
export function TracesPanel({ workerId }: { workerId: number }) {
  const [list, setList] = useState<TraceSummary[]>([]);
  const [trace, setTrace] = useState<Trace | null>(null);
  const [error, setError] = useState("");
  useEffect(() => {
    api.traces(workerId).then(setList).catch((e: ApiError) => setError(e.message));
  }, [workerId]);
  return (
    <div data-testid="traces">
      <h3>Traces</h3>
      {error && <div className="error">{error}</div>}
      {list.length === 0 && !error && <div className="status-line">No traces in the last hour.</div>}
      {list.map((t) => (
        <div key={t.trace_id} className="status-line">
          <a href="#" onClick={(e) => { e.preventDefault(); api.trace(t.trace_id).then(setTrace).catch((x: ApiError) => setError(x.message)); }}>
            {t.trace_id.slice(0, 12)}
          </a>{" "}
          {t.root_operation} · {t.span_count} spans · {(t.duration_us / 1000).toFixed(1)} ms{t.errors ? ` · ${t.errors} errors` : ""}
        </div>
      ))}
      {trace && <Waterfall trace={trace} />}
    </div>
  );
}

export function Waterfall({ trace }: { trace: Trace }) {
  const [open, setOpen] = useState<Span | null>(null);
  const t0 = Math.min(...trace.spans.map((s) => Date.parse(s.start)));
  const end = Math.max(...trace.spans.map((s) => Date.parse(s.start) + s.duration_us / 1000));
  const total = Math.max(end - t0, 0.001);
  return (
    <div className="waterfall" data-testid="waterfall">
      <div className="status-line"><a href={trace.jaeger_url} target="_blank" rel="noreferrer">open in Jaeger</a> · {trace.spans.length} spans</div>
      {trace.spans.map((s) => (
        <div key={s.span_id} className="row" onClick={() => setOpen(s)} title={`${s.service}: ${s.operation}`}>
          <div className="name">{s.service}: {s.operation}</div>
          <div className="track">
            <div className={`bar ${s.status}`} style={{ left: `${((Date.parse(s.start) - t0) / total) * 100}%`,
              width: `${Math.max((s.duration_us / 1000 / total) * 100, 0.5)}%` }} />
          </div>
        </div>
      ))}
      {open && (
        <pre style={{ fontSize: 11, whiteSpace: "pre-wrap" }}>
          {JSON.stringify({ span: open.span_id, parent: open.parent_span_id, links: open.links, attributes: open.attributes }, null, 2)}
        </pre>
      )}
    </div>
  );
}
