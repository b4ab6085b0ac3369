import type { WorkerMetrics, WorkerStatus } from "../../../api/types";

/** One line of a worker's health for its node: allocations and heartbeats. */
export function healthOf(st?: WorkerStatus, m?: WorkerMetrics): { text: string; tone: "ok" | "bad" | "idle" } {
  if (!st) return { text: "not deployed", tone: "idle" };
  if (!st.job || st.job.stopped || st.desired_state === "stopped") return { text: "stopped", tone: "idle" };
  const beats = m ? ` · ${m.instances.heartbeats} heartbeats` : "";
  if (st.placement_failures.length > 0 || st.deployment?.status === "failed") {
    return { text: `failed: ${st.deployment?.description || st.placement_failures[0]}`, tone: "bad" };
  }
  const text = `${st.healthy}/${st.desired} healthy${beats}`;
  return { text, tone: st.healthy >= st.desired && st.desired > 0 ? "ok" : "bad" };
}
