// How the worker and function pages write numbers, sizes and times: pure,
// so they are tested without a page.
import type { FunctionVersion, WorkerOverview } from "../../api/types";
import { span } from "../../alerts/order";

/** Workers the end-to-end tests make: named e2e-…, or in a pipeline named so. */
export function isTestWorker(w: Pick<WorkerOverview, "name" | "pipeline_name">): boolean {
  return w.name.startsWith("e2e-") || (w.pipeline_name ?? "").startsWith("e2e-");
}

/** Function versions the end-to-end tests upload: 0.0.0-e2e… and e2e-…. */
export function isTestVersion(f: Pick<FunctionVersion, "version">): boolean {
  return /^(0\.0\.0-)?e2e/.test(f.version);
}

/** rate writes records per second: "–" when unknown, one decimal below 100. */
export function rate(v: number | null | undefined): string {
  if (v == null || !Number.isFinite(v)) return "–";
  return v >= 100 ? `${Math.round(v)}/s` : `${v.toFixed(1)}/s`;
}

/** bytes writes a size in its largest binary unit: "812 B", "4.2 KiB", "12.0 MiB". */
export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB"];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}

/** ago says how long before now an ISO time was: "12m ago"; "–" for none. */
export function ago(iso: string | null | undefined, now: number): string {
  if (!iso) return "–";
  const t = Date.parse(iso);
  return Number.isFinite(t) ? `${span(now - t)} ago` : "–";
}

export type Tone = "ok" | "bad" | "idle";

/**
 * overviewState is a worker's state in the list: from what it should be
 * (desired_state) and what Nomad has (its job and healthy instances).
 * Without Nomad's answer (running null) it says what is desired only.
 */
export function overviewState(w: WorkerOverview): { text: string; tone: Tone } {
  if (w.running === null) return { text: `${w.desired_state} (Nomad not read)`, tone: "idle" };
  if (!w.job) return w.desired_state === "running" ? { text: "deploying", tone: "bad" } : { text: "not deployed", tone: "idle" };
  if (w.job.stopped || w.desired_state === "stopped") return { text: "stopped", tone: "idle" };
  const desired = w.desired ?? 0;
  if (desired > 0 && (w.healthy ?? 0) >= desired) return { text: "running", tone: "ok" };
  if (w.job.status === "dead") return { text: "dead", tone: "bad" };
  return { text: (w.running ?? 0) > 0 ? "unhealthy" : "starting", tone: "bad" };
}
