import type { WorkerMetrics } from "../../api/types";
import { rate } from "./format";

/** NowSection is the worker's numbers at the last refresh: lag per topic, rates, joins pending, dead letters, errors. */
export function NowSection({ metrics: m, error }: { metrics: WorkerMetrics | null; error: string }) {
  return (
    <div className="card" data-testid="metrics">
      <h3>Now</h3>
      {error && <div className="error">{error}</div>}
      {!m && !error && <div className="status-line">loading…</div>}
      {m && (
        <>
          <div className="status-line">
            lag {m.lag.total} · in {rate(m.throughput.in_per_sec)} · out {rate(m.throughput.out_per_sec)}
            <span className="muted"> ({m.throughput.source === "prometheus" ? "Prometheus" : "the API's sampler"})</span>
          </div>
          <div className="status-line">
            {Object.entries(m.lag.by_topic).map(([t, l]) => `${t}: ${l}`).join(" · ") || "no input topic on the cluster yet"}
          </div>
          <div className="status-line">
            pending joins {m.pending_aggregates ?? "–"} · expired {m.expired ?? "–"} · dead-lettered {m.dead_lettered ?? "–"}
            {" · "}heartbeats {m.instances.heartbeats ?? "–"}
          </div>
          {m.errors.map((e) => <div key={e.instance} className="error">{e.instance.slice(0, 8)} {e.time}: {e.message}</div>)}
          {m.warnings.map((w) => <div key={w} className="warnings">{w}</div>)}
        </>
      )}
    </div>
  );
}
