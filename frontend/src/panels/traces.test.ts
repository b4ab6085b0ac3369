import { describe, expect, it } from "vitest";
import type { Span } from "../api/types";
import { attributeRows, axisTicks, formatDuration, formatTick, rows } from "./traces";

const span = (id: string, parent: string | undefined, startMs: number, durMs: number, service = "w"): Span => ({
  trace_id: "t", span_id: id, parent_span_id: parent, links: [], service, operation: id,
  start: new Date(Date.UTC(2026, 11, 1, 12, 0, 0) + startMs).toISOString(), duration_us: durMs * 1000, attributes: {}, status: "ok",
});

describe("traces", () => {
  it("formats durations in the unit that reads", () => {
    expect(formatDuration(850)).toBe("850 µs");
    expect(formatDuration(1234)).toBe("1.23 ms");
    expect(formatDuration(12_345)).toBe("12.3 ms");
    expect(formatDuration(4_560_000)).toBe("4.56 s");
  });

  it("puts round ticks on the axis", () => {
    expect(axisTicks(10)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(axisTicks(37)).toEqual([0, 5, 10, 15, 20, 25, 30, 35]);
    expect(axisTicks(0.137)).toEqual([0, 0.02, 0.04, 0.06, 0.08, 0.1, 0.12]);
    expect(axisTicks(0)).toEqual([0]);
    expect(formatTick(20, 10)).toBe("20 ms");
    expect(formatTick(2500, 500)).toBe("2500 ms");
    expect(formatTick(3000, 1000)).toBe("3.0 s");
    expect(formatTick(0.4, 0.2)).toBe("400 µs");
  });

  it("nests spans under their parents, in start order, with offsets", () => {
    const r = rows([span("process", "join", 2, 3), span("join", undefined, 1, 5), span("produce", "join", 4, 1), span("orphan", "gone", 0, 1)]);
    expect(r.rows.map((x) => `${"-".repeat(x.depth)}${x.span.span_id}@${x.offsetMs}`)).toEqual(["orphan@0", "join@1", "-process@2", "-produce@4"]);
    expect(r.totalMs).toBe(6);
  });

  it("lists attributes by key", () => {
    expect(attributeRows({ b: 2, a: "x", c: { d: 1 } })).toEqual([["a", "x"], ["b", "2"], ["c", '{"d":1}']]);
  });
});
