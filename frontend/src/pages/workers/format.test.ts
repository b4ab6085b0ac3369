import { describe, expect, it } from "vitest";
import type { WorkerOverview } from "../../api/types";
import { ago, bytes, isTestVersion, isTestWorker, overviewState, rate } from "./format";

const w = (p: Partial<WorkerOverview>): WorkerOverview => ({
  id: 1, name: "shout", input_topics: ["a"], output_topics: [], cluster_id: null, kafka_bootstrap_server: "k:9092",
  function: "shout", function_version: "1.0.0", pipeline_id: null, desired_state: "running", config_version: 1,
  updated_at: "", pipeline_name: null, job: { status: "running", stopped: false }, running: 1, healthy: 1, desired: 1,
  lag: 0, in_per_sec: 0, out_per_sec: 0, metadata: null, timeout_seconds: 60, instances: 1, join_key: "id",
  expiry_topic: "", dead_letter_topic: "", tombstone_ttl_seconds: 0, ...p,
});

describe("worker state", () => {
  it("reads desired state, job and healthy instances", () => {
    const cases: [Partial<WorkerOverview>, string][] = [
      [{}, "running"],
      [{ healthy: 0 }, "unhealthy"],
      [{ healthy: 0, running: 0 }, "starting"],
      [{ job: null, desired_state: "stopped", running: 0, healthy: 0, desired: 0 }, "not deployed"],
      [{ job: null, running: 0, healthy: 0, desired: 0 }, "deploying"],
      [{ job: { status: "dead", stopped: true }, desired_state: "stopped", desired: 0 }, "stopped"],
      [{ job: { status: "dead", stopped: false }, healthy: 0, running: 0 }, "dead"],
      [{ running: null, healthy: null, desired: null, job: null }, "running (Nomad not read)"],
    ];
    for (const [p, text] of cases) expect(overviewState(w(p)).text).toBe(text);
    expect(overviewState(w({})).tone).toBe("ok");
  });
});

describe("test fixtures", () => {
  it("are told by their names", () => {
    expect(isTestWorker(w({ name: "e2e-w-1" }))).toBe(true);
    expect(isTestWorker(w({ name: "w-1", pipeline_name: "e2e-obs-1" }))).toBe(true);
    expect(isTestWorker(w({ name: "enricher", pipeline_name: "demo" }))).toBe(false);
    expect(["0.0.0-e2e", "0.0.0-e2e.17", "e2e-abc", "1.0.0", "2.0.0-rc1"].map((version) => isTestVersion({ version })))
      .toEqual([true, true, true, false, false]);
  });
});

describe("formats", () => {
  it("writes rates, sizes and times", () => {
    expect([null, 0, 2.25, 150.4].map(rate)).toEqual(["–", "0.0/s", "2.3/s", "150/s"]);
    expect([12, 4300, 12.5 * 1024 * 1024].map(bytes)).toEqual(["12 B", "4.2 KiB", "12.5 MiB"]);
    expect(ago("2025-12-01T10:00:00Z", Date.parse("2025-12-01T10:12:00Z"))).toBe("12m ago");
    expect(ago(null, 0)).toBe("–");
  });
});
