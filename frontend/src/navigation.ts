// The app's route is the hash. Leaving a page with unsaved work: the router
// asks the page before it follows a hash change, whatever made it (a
// link, Back, Forward, an address typed in the bar), and when the page
// says no it returns to the page's history entry. Asking in the router,
// not in a hashchange listener of the page, is what makes it reliable:
// the router's own listener would otherwise switch pages, and unmount the
// page's listener, first.
import { useEffect, useState } from "react";

/** A page's answer: whether the app may go to route (the hash without '#'). */
export type LeaveGuard = (route: string) => boolean;

let guard: LeaveGuard | null = null;

/** setLeaveGuard installs the page's guard; the returned function removes it (if it is still this one). */
export function setLeaveGuard(g: LeaveGuard): () => void {
  guard = g;
  return () => {
    if (guard === g) guard = null;
  };
}

const routeOf = (hash: string) => hash.slice(1) || "/";
const IDX = "tributaryIndex";

/** The position of the current history entry among the app's, stamped in its state. */
function indexOf(state: unknown): number | undefined {
  const i = (state as Record<string, unknown> | null)?.[IDX];
  return typeof i === "number" ? i : undefined;
}

function stamp(i: number) {
  window.history.replaceState({ ...(window.history.state ?? {}), [IDX]: i }, "");
}

/**
 * useHashRoute is the route: #/ (pipelines), #/pipelines/new,
 * #/pipelines/<id>, #/alerts. Each entry the app shows is stamped with
 * its position, so that a refused Back or Forward goes as many entries the
 * other way, and a refused new entry (a link, a typed address) goes back.
 */
export function useHashRoute(): string {
  const [route, setRoute] = useState(routeOf(window.location.hash));
  useEffect(() => {
    let at = indexOf(window.history.state) ?? 0;
    stamp(at);
    let returning: string | null = null; // the hash we are going back to after a refusal
    const on = (e: HashChangeEvent) => {
      if (returning !== null && window.location.hash === returning) {
        returning = null;
        return;
      }
      const arrived = indexOf(window.history.state);
      if (guard && !guard(routeOf(window.location.hash))) {
        returning = new URL(e.oldURL).hash;
        if (arrived !== undefined && arrived !== at) window.history.go(at - arrived);
        else window.history.back();
        return;
      }
      at = arrived ?? at + 1;
      stamp(at);
      setRoute(routeOf(window.location.hash));
    };
    window.addEventListener("hashchange", on);
    return () => window.removeEventListener("hashchange", on);
  }, []);
  return route;
}
