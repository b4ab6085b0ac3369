import { useEffect, useState } from "react";
import { api } from "../api/client";
import type { Live } from "./context";

/** Polls status and metrics of the deployed workers every few seconds. */
export function useLiveStatus(workerIds: Record<string, number>, everyMs = 3000): Live {
  const [live, setLive] = useState<Live>({ status: {}, metrics: {} });
  const key = JSON.stringify(workerIds);
  useEffect(() => {
    let stopped = false;
    async function poll() {
      const next: Live = { status: {}, metrics: {} };
      await Promise.all(Object.entries(workerIds).map(async ([name, id]) => {
        const [st, m] = await Promise.allSettled([api.status(id), api.metrics(id)]);
        if (st.status === "fulfilled") next.status[name] = st.value;
        if (m.status === "fulfilled") next.metrics[name] = m.value;
      }));
      if (!stopped) setLive(next);
    }
    poll();
    const t = setInterval(poll, everyMs);
    return () => { stopped = true; clearInterval(t); };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, everyMs]);
  return live;
}
