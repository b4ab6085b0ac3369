import { useEffect, useRef } from "react";

/**
 * usePoll calls tick(0) at once, then tick(1), tick(2)… every everyMs
 * while the component is mounted; null stops it. A tick that falls while
 * the tab is hidden is skipped and made up as soon as it is shown again,
 * so a background tab costs the API nothing. A new key restarts at 0.
 */
export function usePoll(tick: (n: number) => void, everyMs: number | null, key = ""): void {
  const latest = useRef(tick);
  latest.current = tick;
  useEffect(() => {
    if (everyMs === null) return;
    let n = 0;
    let owed = false;
    const run = () => {
      if (document.hidden) {
        owed = true;
        return;
      }
      owed = false;
      latest.current(n++);
    };
    const shown = () => { if (!document.hidden && owed) run(); };
    run();
    const t = setInterval(run, everyMs);
    document.addEventListener("visibilitychange", shown);
    return () => {
      clearInterval(t);
      document.removeEventListener("visibilitychange", shown);
    };
  }, [everyMs, key]);
}
