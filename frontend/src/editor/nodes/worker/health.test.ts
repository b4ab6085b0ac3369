import { describe, expect, it } from "vitest";
import type { WorkerStatus } from "../../../api/types";
import { healthOf } from "./health";

const job = { id: "tributary-w", status: "running", stopped: false, version: 3 };
const st = (patch: Partial<WorkerStatus>): WorkerStatus => ({
  worker: "w", worker_id: 1, desired_state: "running", instances: 2, job, deployment: null, allocations: [],
  placement_failures: [], running: 0, healthy: 0, unverified: 0, desired: 2, ...patch,
});
const saved = { saved: true, loaded: true };

describe("worker health", () => {
  it.each([
    ["an unsaved worker", { saved: false, loaded: false }, "not deployed", "idle"],
    ["a saved worker before the first status", { saved: true, loaded: false }, "loading…", "idle"],
    ["a worker the status does not list", saved, "not deployed", "idle"],
    ["a worker whose status failed", { ...saved, error: "Nomad: timeout" }, "status unavailable", "idle"],
    ["a saved worker never deployed", { ...saved, status: st({ job: null, desired_state: "stopped", desired: 0 }) }, "not deployed", "idle"],
    ["a stopped worker", { ...saved, status: st({ job: { ...job, stopped: true }, desired_state: "stopped", desired: 0 }) }, "stopped", "idle"],
    ["a healthy worker", { ...saved, status: st({ running: 2, healthy: 2 }) }, "2/2 healthy", "ok"],
    ["a scale 1→2: the first instance awaits its new verdict, the second starts",
      { ...saved, status: st({ running: 1, unverified: 1, deployment: { status: "running", description: "Deployment is running", job_version: 1 } }) },
      "starting: 1/2 running", "pending"],
    ["a scale 1→2: both run, not yet judged", { ...saved, status: st({ running: 2, healthy: 0, unverified: 2 }) },
      "2/2 running, 2 not yet verified", "pending"],
    ["rescheduled outside a deployment", { ...saved, status: st({ running: 2, healthy: 1, unverified: 1 }) },
      "2/2 running, 1 not yet verified", "pending"],
    ["an allocation judged unhealthy", { ...saved, status: st({ running: 2, healthy: 1, unverified: 0 }) },
      "1/2 healthy, 1 unhealthy", "bad"],
    ["fewer running than wanted, no rollout", { ...saved, status: st({ running: 1, healthy: 1 }) }, "1/2 healthy", "bad"],
    ["a failed deployment", { ...saved, status: st({ deployment: { status: "failed", description: "Failed due to unhealthy allocations", job_version: 1 } }) },
      "failed: Failed due to unhealthy allocations", "bad"],
  ] as const)("%s", (_, input, text, tone) => {
    const h = healthOf(input);
    expect(h.text).toBe(text);
    expect(h.tone).toBe(tone);
  });

  it("adds the heartbeats when metrics came", () => {
    const m = { instances: { heartbeats: 2, allocations_running: 2, allocations_desired: 2 } } as never;
    expect(healthOf({ ...saved, status: st({ running: 2, healthy: 2 }), metrics: m }).text).toBe("2/2 healthy · 2 heartbeats");
  });
});
