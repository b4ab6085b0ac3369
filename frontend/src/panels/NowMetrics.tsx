import { useLive } from "../editor/context";

/** The worker's numbers of the moment, from the editor's last refresh. */
export function NowMetrics({ name }: { name: string }) {
  const m = useLive((l) => l.metrics[name]);
  if (!m) return null;
  return (
    <div data-testid="metrics">
      <h3>Now</h3>
      <div className="status-line" title={m.throughput.source === "prometheus" ? "rates from Prometheus" : "rates sampled by the API server"}>
        lag {m.lag.total} · in {m.throughput.in_per_sec.toFixed(1)}/s · out {m.throughput.out_per_sec.toFixed(1)}/s
      </div>
      <div className="status-line">pending joins {m.pending_aggregates ?? "–"} · expired {m.expired ?? "–"} · dead-lettered {m.dead_lettered ?? "–"}</div>
      {m.errors?.map((e) => <div key={e.instance} className="error">{e.instance.slice(0, 8)}: {e.message}</div>)}
    </div>
  );
}
