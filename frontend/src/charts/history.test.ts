import { describe, expect, it } from "vitest";
import { ApiError } from "../api/client";
import type { SeriesMetric, WorkerSeries } from "../api/types";
import { createHistoryStore, graphTick, historyKey } from "./history";

const lag = (points: [number, number][]): WorkerSeries => ({
  worker: "w", metric: "lag", unit: "records", range_seconds: 3600, step_seconds: 30, query: "q", series: [{ labels: {}, points }],
});
const notConfigured = new ApiError(503, "unavailable", "Prometheus is not configured on this server: set TRIBUTARY_PROMETHEUS_URL");
const noAnswer = new ApiError(503, "unavailable", "Prometheus did not answer: context deadline exceeded");

/** A fetch whose answers the test hands out, counting calls. */
function fake() {
  const calls: string[] = [];
  const pending: { resolve: (w: WorkerSeries) => void; reject: (e: unknown) => void }[] = [];
  const fetch = (id: number, metric: SeriesMetric, range: string, step: string) => {
    calls.push(`${id}/${metric}?${range}&${step}`);
    return new Promise<WorkerSeries>((resolve, reject) => pending.push({ resolve, reject }));
  };
  return { calls, pending, fetch };
}

describe("history store", () => {
  it("keeps a chart per worker and metric, asking for the last hour at Prometheus' step", async () => {
    const f = fake();
    const s = createHistoryStore(f.fetch, () => 2_000_000);
    const p = s.getState().load(7, "lag");
    f.pending[0].resolve(lag([[1990, 3]]));
    await p;
    expect(f.calls).toEqual(["7/lag?1h&30s"]);
    expect(s.getState().charts[historyKey(7, "lag")].data).toEqual([[1990], [3]]);
  });

  it("asks once while a load is running, and not again while fresh enough", async () => {
    let t = 0;
    const f = fake();
    const s = createHistoryStore(f.fetch, () => t);
    const a = s.getState().load(1, "rate");
    const b = s.getState().load(1, "rate", 25_000);
    expect(a).toBe(b);
    f.pending[0].resolve({ ...lag([]), metric: "rate" });
    await a;
    t = 10_000;
    await s.getState().load(1, "rate", 25_000);
    expect(f.calls).toHaveLength(1);
    t = 30_000;
    void s.getState().load(1, "rate", 25_000);
    expect(f.calls).toHaveLength(2);
  });

  it("tells a server without Prometheus from a Prometheus that did not answer", async () => {
    const f = fake();
    const s = createHistoryStore(f.fetch, () => 0);
    const a = s.getState().load(1, "lag");
    f.pending[0].reject(notConfigured);
    await a;
    expect(s.getState().missing).toBe(true);
    expect(s.getState().errors).toEqual({});

    const b = s.getState().load(2, "lag");
    f.pending[1].reject(noAnswer);
    await b;
    expect(s.getState().errors[historyKey(2, "lag")]).toMatch(/did not answer/);

    const c = s.getState().load(2, "lag"); // Prometheus is back, after a restart with the variable set
    f.pending[2].resolve(lag([[1, 1]]));
    await c;
    expect(s.getState().missing).toBe(false);
    expect(s.getState().errors).toEqual({});
  });

  it("leaves other workers' charts alone when one refreshes", async () => {
    const f = fake();
    const s = createHistoryStore(f.fetch, () => 0);
    const a = s.getState().load(1, "lag");
    f.pending[0].resolve(lag([[1, 1]]));
    await a;
    const before = s.getState().charts[historyKey(1, "lag")];
    const b = s.getState().load(2, "lag");
    f.pending[1].resolve(lag([[1, 2]]));
    await b;
    expect(s.getState().charts[historyKey(1, "lag")]).toBe(before); // same object: its selector does not fire
  });
});

describe("graph ticks", () => {
  it("loads one metric per worker per tick: lag, then rate, in turn", () => {
    expect(graphTick(0, [1, 2], false)).toEqual([[1, "lag"], [2, "lag"]]);
    expect(graphTick(1, [1, 2], false)).toEqual([[1, "rate"], [2, "rate"]]);
    expect(graphTick(2, [1, 2], false)).toEqual([[1, "lag"], [2, "lag"]]);
  });

  it("only probes one worker while the server has no Prometheus, and nothing without workers", () => {
    expect(graphTick(5, [4, 9, 12], true)).toEqual([[4, "lag"]]);
    expect(graphTick(0, [], false)).toEqual([]);
  });
});
