import { describe, expect, it } from "vitest";
import type { WorkerMetrics } from "../../api/types";
import { planSentence, resetPlan } from "./resetPlan";

const metrics = (ends: [string, number, number][]) => ({
  lag: { partitions: ends.map(([topic, partition, high_watermark]) => ({ topic, partition, high_watermark, committed: 0, lag: 0 })) },
}) as unknown as WorkerMetrics;

describe("reset plan", () => {
  it("counts what is processed again, skipped and left, per partition", () => {
    const from = [{ topic: "in", partition: 0, offset: 10 }, { topic: "in", partition: 1, offset: 4 }];
    const earliest = [{ topic: "in", partition: 0, offset: 0 }, { topic: "in", partition: 1, offset: 0 }, { topic: "in", partition: 2, offset: 0 }];
    const p = resetPlan(from, earliest, metrics([["in", 0, 12], ["in", 1, 4], ["in", 2, 3]]));
    expect(p.partitions.map((x) => [x.committed, x.again, x.skipped])).toEqual([[10, 10, 0], [4, 4, 0], [null, 0, 0]]);
    expect([p.again, p.skipped, p.pending]).toEqual([14, 0, 19]);
    expect(planSentence(p)).toBe("14 already processed records will be processed again. Afterwards 19 records wait to be processed.");

    const latest = resetPlan(from, [{ topic: "in", partition: 0, offset: 12 }, { topic: "in", partition: 1, offset: 4 }], metrics([["in", 0, 12]]));
    expect([latest.again, latest.skipped, latest.pending]).toEqual([0, 2, 0]);
    expect(planSentence(latest)).toBe("2 unprocessed records will be skipped. Afterwards 0 records wait to be processed.");
  });

  it("says when nothing moves", () => {
    expect(planSentence(resetPlan([], [], null))).toMatch(/^no partition moves/);
  });
});
