// The last hour of each deployed worker's lag and rate, as the editor's
// nodes and worker panel draw it. A store of its own, next to the editor's,
// so that a chart refreshing every 30 s changes nothing the nodes, edges
// and toolbar select: only the chart that shows that worker's metric
// re-renders.
import { createStore } from "zustand/vanilla";
import { api, prometheusMissing } from "../api/client";
import type { SeriesMetric, WorkerSeries } from "../api/types";
import { toChart, type ChartData } from "./series";

/** The window and resolution every history chart asks for. */
export const HISTORY_RANGE = "1h";
export const HISTORY_STEP = "30s";
/** How often a chart on screen is refreshed: Prometheus' step, no more. */
export const HISTORY_EVERY_MS = 30_000;

export const historyKey = (workerId: number, metric: SeriesMetric) => `${workerId}/${metric}`;

export interface HistoryState {
  /** by historyKey */
  charts: Record<string, ChartData>;
  /** why the last load of a key failed, when it did for another reason than a missing Prometheus */
  errors: Record<string, string>;
  /** the server has no Prometheus (its 503 names TRIBUTARY_PROMETHEUS_URL): say so once, stop asking for every worker */
  missing: boolean;
  /**
   * load fetches one worker's metric unless it was fetched less than
   * maxAgeMs ago or is being fetched now; it never rejects.
   */
  load(workerId: number, metric: SeriesMetric, maxAgeMs?: number): Promise<void>;
}

type Fetch = (id: number, metric: SeriesMetric, range: string, step: string) => Promise<WorkerSeries>;

export function createHistoryStore(fetchSeries: Fetch = api.series, now: () => number = Date.now) {
  const inflight = new Map<string, Promise<void>>();
  const fetchedAt = new Map<string, number>();
  return createStore<HistoryState>()((set, get) => ({
    charts: {},
    errors: {},
    missing: false,
    load(workerId, metric, maxAgeMs = 0) {
      const key = historyKey(workerId, metric);
      const running = inflight.get(key);
      if (running) return running;
      if (now() - (fetchedAt.get(key) ?? -Infinity) < maxAgeMs) return Promise.resolve();
      const p = fetchSeries(workerId, metric, HISTORY_RANGE, HISTORY_STEP)
        .then((ws) => {
          const errors = { ...get().errors };
          delete errors[key];
          set({ charts: { ...get().charts, [key]: toChart(ws, now() / 1000) }, errors, missing: false });
        })
        .catch((e: unknown) => {
          if (prometheusMissing(e)) set({ missing: true });
          else set({ errors: { ...get().errors, [key]: e instanceof Error ? e.message : String(e) } });
        })
        .finally(() => {
          inflight.delete(key);
          fetchedAt.set(key, now());
        });
      inflight.set(key, p);
      return p;
    },
  }));
}

export type HistoryStore = ReturnType<typeof createHistoryStore>;

/**
 * graphTick is what the graph loads on its n-th 30 s tick: every worker's
 * lag, then every worker's rate, in turn, so that a worker never costs
 * more than one request per 30 s (each sparkline is at most a minute old,
 * and the rate one appears on the second tick); while the server has no
 * Prometheus, only one probe of the first worker, to notice when it gets one.
 */
export function graphTick(n: number, workerIds: number[], missing: boolean): [number, SeriesMetric][] {
  if (workerIds.length === 0) return [];
  if (missing) return [[workerIds[0], "lag"]];
  const metric: SeriesMetric = n % 2 === 0 ? "lag" : "rate";
  return workerIds.map((id): [number, SeriesMetric] => [id, metric]);
}
