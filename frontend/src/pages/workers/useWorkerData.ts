import { useCallback, useEffect, useState } from "react";
import { api, ApiError } from "../../api/client";
import type { Worker, WorkerMetrics, WorkerStatus } from "../../api/types";
import { usePoll } from "../../usePoll";

/** How often the page refreshes the worker's status and metrics. */
export const LIVE_EVERY_MS = 5000;

export interface WorkerData {
  worker: Worker | null;
  status: WorkerStatus | null;
  metrics: WorkerMetrics | null;
  /** why the worker itself could not be read (404 and the like) */
  error: string;
  /** why status or metrics could not be read this time; the last answers stay */
  liveError: string;
  /** reload reads the worker again and refreshes status and metrics now */
  reload: () => void;
  /** replaced puts the worker an action answered with in place */
  replaced: (w: Worker) => void;
}

/** useWorkerData loads a worker once and polls its status and metrics every 5 s. */
export function useWorkerData(id: number): WorkerData {
  const [worker, setWorker] = useState<Worker | null>(null);
  const [status, setStatus] = useState<WorkerStatus | null>(null);
  const [metrics, setMetrics] = useState<WorkerMetrics | null>(null);
  const [error, setError] = useState("");
  const [liveError, setLiveError] = useState("");
  const [tick, setTick] = useState(0);

  useEffect(() => {
    api.worker(id).then((w) => { setWorker(w); setError(""); }).catch((e: ApiError) => setError(e.message));
  }, [id, tick]);

  const live = useCallback(() => {
    Promise.allSettled([api.status(id), api.metrics(id)]).then(([st, m]) => {
      if (st.status === "fulfilled") setStatus(st.value);
      if (m.status === "fulfilled") setMetrics(m.value);
      const why = [st, m].filter((r): r is PromiseRejectedResult => r.status === "rejected").map((r) => (r.reason as Error).message);
      setLiveError(why.join("; "));
    });
  }, [id]);
  usePoll(live, LIVE_EVERY_MS, `${id}/${tick}`);

  return {
    worker, status, metrics, error, liveError,
    reload: useCallback(() => setTick((t) => t + 1), []),
    replaced: useCallback((w: Worker) => setWorker(w), []),
  };
}
