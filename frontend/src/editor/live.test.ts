import { describe, expect, it } from "vitest";
import type { PipelineWorkerStatus, WorkerMetrics } from "../api/types";
import { createLiveStore } from "./live";

const status = (worker: string, healthy: number): PipelineWorkerStatus => ({
  worker, worker_id: 1, desired_state: "running", instances: 1, job: { id: "j", status: "running", stopped: false, version: 1 },
  deployment: null, allocations: [], placement_failures: [], running: 1, healthy, unverified: 1 - healthy, desired: 1,
  metrics: { worker, lag: { total: 0, by_topic: {}, partitions: [] }, sampled_at: new Date().toISOString() } as unknown as WorkerMetrics,
});

describe("live status", () => {
  it("is not loaded before the first answer, then holds every worker's status and metrics", async () => {
    const s = createLiveStore(async () => [status("a", 1), { ...status("b", 0), metrics: null }]);
    expect(s.getState().loaded).toBe(false);
    await s.getState().refresh(7);
    expect(s.getState().loaded).toBe(true);
    expect(Object.keys(s.getState().status)).toEqual(["a", "b"]);
    expect(Object.keys(s.getState().metrics)).toEqual(["a"]);
    expect(s.getState().status.a).not.toHaveProperty("metrics");
  });

  it("keeps a worker's objects when a refresh says the same, so selectors see no change", async () => {
    let healthy = 1;
    const s = createLiveStore(async () => [status("a", healthy), status("b", 1)]);
    await s.getState().refresh(7);
    const before = s.getState();
    healthy = 0;
    await s.getState().refresh(7);
    expect(s.getState().status.b).toBe(before.status.b);
    expect(s.getState().metrics.a).toBe(before.metrics.a); // sampled_at differs, nothing shown does
    expect(s.getState().status.a).not.toBe(before.status.a);
  });

  it("asks once at a time, and keeps the last status when a refresh fails", async () => {
    let calls = 0, fail = false;
    const s = createLiveStore(async () => {
      calls++;
      if (fail) throw new Error("Nomad did not answer");
      return [status("a", 1)];
    });
    await Promise.all([s.getState().refresh(7), s.getState().refresh(7)]);
    expect(calls).toBe(1);
    fail = true;
    await s.getState().refresh(7);
    expect(s.getState().error).toBe("Nomad did not answer");
    expect(s.getState().status.a.healthy).toBe(1);
  });
});
