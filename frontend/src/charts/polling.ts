// When the editor asks for history: the graph for every saved worker,
// the worker panel for the one it shows, both through the one store so a
// worker whose panel is open is not fetched twice.
import { usePoll } from "../usePoll";
import { graphTick, HISTORY_EVERY_MS, type HistoryStore } from "./history";

// A load the panel made this recently answers the graph's tick too.
const FRESH_MS = HISTORY_EVERY_MS - 5_000;

/**
 * useGraphHistory keeps the lag and rate sparklines of the workers it is
 * given fresh while the editor is open: the ones with a Nomad job, since
 * a worker never deployed has no history to ask Prometheus for.
 */
export function useGraphHistory(store: HistoryStore, workerIds: number[]): void {
  const ids = [...workerIds].sort((a, b) => a - b);
  usePoll((n) => {
    const st = store.getState();
    for (const [id, metric] of graphTick(n, ids, st.missing)) void st.load(id, metric, FRESH_MS);
  }, ids.length > 0 ? HISTORY_EVERY_MS : null, ids.join(","));
}

/**
 * useWorkerHistory refreshes one worker's lag and rate every 30 s while
 * its panel is open; it leaves probing a server without Prometheus to the
 * graph's single request.
 */
export function useWorkerHistory(store: HistoryStore, workerId: number): void {
  usePoll(() => {
    const st = store.getState();
    if (st.missing) return;
    void st.load(workerId, "lag");
    void st.load(workerId, "rate");
  }, HISTORY_EVERY_MS, String(workerId));
}
