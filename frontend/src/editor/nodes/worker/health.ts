import type { WorkerMetrics, WorkerStatus } from "../../../api/types";

export type HealthTone = "ok" | "bad" | "idle" | "pending";

export interface Health {
  text: string;
  tone: HealthTone;
}

export interface HealthInput {
  /** the worker has been saved (has an id): only then can it be deployed */
  saved: boolean;
  /** the editor's first status answer arrived */
  loaded: boolean;
  /** why the last status refresh failed, if it did */
  error?: string;
  status?: WorkerStatus;
  metrics?: WorkerMetrics;
}

/**
 * healthOf is one line of a worker's health for its node and panel. A
 * running allocation no deployment has judged yet (during a scale or a
 * rollout, or rescheduled outside one) is running, not unhealthy: the
 * line turns red only for what Nomad calls a failure or an allocation
 * judged unhealthy, or for fewer instances running than wanted when no
 * rollout explains it. Before the first status arrives it says so rather
 * than guess.
 */
export function healthOf({ saved, loaded, error, status: st, metrics: m }: HealthInput): Health {
  if (!saved) return { text: "not deployed", tone: "idle" };
  if (!st) {
    if (!loaded) return { text: "loading…", tone: "idle" };
    return error ? { text: "status unavailable", tone: "idle" } : { text: "not deployed", tone: "idle" };
  }
  if (!st.job) return { text: "not deployed", tone: "idle" };
  if (st.job.stopped || st.desired_state === "stopped") return { text: "stopped", tone: "idle" };
  if (st.placement_failures.length > 0 || st.deployment?.status === "failed") {
    return { text: `failed: ${st.deployment?.description || st.placement_failures[0]}`, tone: "bad" };
  }
  const beats = m && m.instances.heartbeats != null ? ` · ${m.instances.heartbeats} heartbeats` : "";
  const unverified = st.unverified ?? 0;
  if (st.desired > 0 && st.healthy >= st.desired) return { text: `${st.healthy}/${st.desired} healthy${beats}`, tone: "ok" };
  const judgedUnhealthy = st.running - st.healthy - unverified;
  if (judgedUnhealthy > 0) return { text: `${st.healthy}/${st.desired} healthy, ${judgedUnhealthy} unhealthy${beats}`, tone: "bad" };
  if (st.running > 0 && st.running >= st.desired) {
    return { text: `${st.running}/${st.desired} running, ${unverified} not yet verified${beats}`, tone: "pending" };
  }
  if (st.deployment?.status === "running") {
    return { text: `starting: ${st.running}/${st.desired} running${beats}`, tone: "pending" };
  }
  return { text: `${st.healthy}/${st.desired} healthy${beats}`, tone: "bad" };
}
