// The live status and metrics of a pipeline's workers, refreshed every
// few seconds with one request (GET /pipelines/{id}/status?metrics=true),
// in a store of its own: nodes, edges and the panel select their worker's
// part, so a refresh re-renders only what changed.
import { createStore } from "zustand/vanilla";
import { api } from "../api/client";
import type { PipelineWorkerStatus, WorkerMetrics, WorkerStatus } from "../api/types";
import { usePoll } from "../usePoll";

/** How often the editor refreshes its workers' status. */
export const LIVE_EVERY_MS = 3_000;

export interface LiveState {
  /** the first answer (or failure) arrived: until then no worker's state is known */
  loaded: boolean;
  /** why the last refresh failed; the previous status stays */
  error: string;
  /** by worker name */
  status: Record<string, WorkerStatus>;
  metrics: Record<string, WorkerMetrics>;
  refresh(pipelineId: number): Promise<void>;
  /** a pipeline never saved: nothing to ask, and nothing deployed */
  none(): void;
}

type Fetch = (pipelineId: number) => Promise<PipelineWorkerStatus[]>;

/** keep returns prev when next says the same, so that selectors see no change. */
function keep<T>(prev: T | undefined, next: T): T {
  return prev !== undefined && JSON.stringify(prev) === JSON.stringify(next) ? prev : next;
}

export function createLiveStore(fetchStatus: Fetch = api.pipelineStatus) {
  let inflight: Promise<void> | null = null;
  return createStore<LiveState>()((set, get) => ({
    loaded: false,
    error: "",
    status: {},
    metrics: {},
    refresh(pipelineId) {
      if (inflight) return inflight; // a slow answer is not asked for again on top
      inflight = fetchStatus(pipelineId)
        .then((ws) => {
          const prev = get();
          const status: Record<string, WorkerStatus> = {};
          const metrics: Record<string, WorkerMetrics> = {};
          for (const { metrics: m, metrics_error: _, ...st } of ws) {
            status[st.worker] = keep(prev.status[st.worker], st);
            if (m) {
              // the time of sampling changes every time; nothing shows it
              // (kept out of the comparison, so an unchanged answer re-renders nothing)
              const same = { ...m, sampled_at: "" };
              metrics[st.worker] = keep(prev.metrics[st.worker], same);
            }
          }
          set({ loaded: true, error: "", status, metrics });
        })
        .catch((e: unknown) => set({ loaded: true, error: e instanceof Error ? e.message : String(e) }))
        .finally(() => { inflight = null; });
      return inflight;
    },
    none() {
      set({ loaded: true, error: "", status: {}, metrics: {} });
    },
  }));
}

export type LiveStore = ReturnType<typeof createLiveStore>;

/**
 * useLivePoll refreshes the pipeline's workers now and every LIVE_EVERY_MS
 * while the tab is shown; key (its saved workers) restarts it at once.
 * pipelineId is null for a pipeline never saved (nothing to ask) and
 * undefined while it loads (nothing known yet: the workers read "loading").
 */
export function useLivePoll(store: LiveStore, pipelineId: number | null | undefined, key: string): void {
  usePoll(() => {
    if (pipelineId === null) store.getState().none();
    else if (pipelineId !== undefined) void store.getState().refresh(pipelineId);
  }, pipelineId === undefined ? null : LIVE_EVERY_MS, `${pipelineId}:${key}`);
}
