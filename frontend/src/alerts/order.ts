// How the UI orders and words alerts: pure, so it is tested without a page.
import type { Alert } from "../api/types";

/** Alertmanager's usual severities, worst first; any other sorts after them. */
const SEVERITY = ["critical", "error", "warning", "info"];
const rank = (s: string) => {
  const i = SEVERITY.indexOf(s.toLowerCase());
  return i < 0 ? SEVERITY.length : i;
};
const time = (iso: string | null) => (iso ? Date.parse(iso) || 0 : 0);

export interface AlertGroups {
  /** worst severity first, then the most recent start */
  firing: Alert[];
  /** the most recently ended first */
  resolved: Alert[];
}

/** groupAlerts splits alerts into firing and resolved, each in the order the Alerts page lists them. */
export function groupAlerts(alerts: Alert[]): AlertGroups {
  const firing = alerts.filter((a) => a.status === "firing")
    .sort((a, b) => rank(a.severity) - rank(b.severity) || time(b.starts_at) - time(a.starts_at) || a.name.localeCompare(b.name));
  const resolved = alerts.filter((a) => a.status !== "firing")
    .sort((a, b) => time(b.ends_at ?? b.updated_at) - time(a.ends_at ?? a.updated_at) || a.name.localeCompare(b.name));
  return { firing, resolved };
}

/** firingFor is a worker's firing alerts, worst first. */
export function firingFor(alerts: Alert[], worker: string): Alert[] {
  return groupAlerts(alerts.filter((a) => a.worker === worker)).firing;
}

/** span writes a duration in its largest two units: "45s", "12m", "3h 5m", "2d 4h". */
export function span(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 ? `${h}h ${m % 60}m` : `${h}h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d}d ${h % 24}h` : `${d}d`;
}

/** when says since when an alert fires, or when it ended and how long it lasted. */
export function when(a: Alert, now: number): string {
  if (a.status === "firing") return `for ${span(now - time(a.starts_at))}`;
  const end = time(a.ends_at ?? a.updated_at);
  return `ended ${span(now - end)} ago, lasted ${span(end - time(a.starts_at))}`;
}
