import { describe, expect, it } from "vitest";
import type { WorkerSeries } from "../api/types";
import { clock, compact, lastValues, legendValue, lineLabel, sparkPaths, toChart } from "./series";

const rate: WorkerSeries = {
  worker: "enricher", metric: "rate", unit: "records/s", range_seconds: 3600, step_seconds: 30, query: "sum(rate(...))",
  series: [
    { labels: { direction: "out" }, points: [[1000, 2], [1030, 3]] },
    { labels: {}, points: [[970, 5], [1000, 6], [1030, 7]] },
  ],
};

describe("series JSON → uPlot data", () => {
  it("aligns the lines on the union of their times, in before out, with null where a line has no point", () => {
    const c = toChart(rate, 1030);
    expect(c.labels).toEqual(["in", "out"]);
    expect(c.data).toEqual([[970, 1000, 1030], [5, 6, 7], [null, 2, 3]]);
    expect(c.points).toBe(5);
    expect(c.unit).toBe("records/s");
  });

  it("spans the whole range up to now, even when points start later", () => {
    expect(toChart(rate, 2000).window).toEqual([2000 - 3600, 2000]);
    expect(toChart(rate, 500).window).toEqual([1030 - 3600, 1030]); // a clock behind the server's
  });

  it("turns NaN and non-numbers into gaps and copes with no series at all", () => {
    const c = toChart({ ...rate, metric: "lag", unit: "records",
      series: [{ labels: {}, points: [[1, 4], [2, "NaN" as unknown as number], [3, Infinity]] }] }, 3);
    expect(c.data).toEqual([[1, 2, 3], [4, null, null]]);
    expect(c.points).toBe(1);
    const empty = toChart({ ...rate, series: [] }, 10);
    expect(empty.data).toEqual([[]]);
    expect(empty.points).toBe(0);
    expect(toChart({ ...rate, series: null as unknown as [] }, 10).points).toBe(0);
  });

  it("names lines by direction, topic or metric", () => {
    expect(lineLabel("rate", { direction: "out" })).toBe("out");
    expect(lineLabel("rate", { direction: "in" })).toBe("in");
    expect(lineLabel("lag", {})).toBe("lag");
    expect(lineLabel("lag", { topic: "orders" })).toBe("orders");
    expect(lineLabel("dead_letters", {})).toBe("dead letters");
  });

  it("reads the last value of each line, skipping trailing gaps", () => {
    const c = toChart({ ...rate, series: [{ labels: {}, points: [[1, 4], [2, 5]] }, { labels: { direction: "out" }, points: [[1, 9]] }] }, 2);
    expect(lastValues(c)).toEqual([5, 9]);
  });
});

describe("formatting", () => {
  it("writes values short", () => {
    expect([0, 0.25, 0.5, 1, 3.45, 12.6, 950, 1234, 45_000, 3_400_000, 2e9, null].map(compact))
      .toEqual(["0", "0.25", "0.5", "1", "3.5", "13", "950", "1.2k", "45k", "3.4M", "2.0G", "–"]);
    expect(legendValue(0.85, "seconds")).toBe("850 ms");
    expect(legendValue(2.5, "seconds")).toBe("2.50 s");
    expect(legendValue(1200, "records")).toBe("1.2k");
    expect(legendValue(null, "records")).toBe("–");
    expect(clock(new Date(2025, 0, 1, 9, 5).getTime() / 1000)).toBe("09:05");
  });
});

describe("sparklines", () => {
  it("draws each line over the window on one scale from 0 to the largest value, a gap starting a new subpath", () => {
    const c = toChart({ ...rate, range_seconds: 100, series: [
      { labels: {}, points: [[0, 0], [50, 10], [100, 5]] },
      { labels: { direction: "out" }, points: [[0, 5], [100, 10]] },
    ] }, 100);
    const [inPath, outPath] = sparkPaths(c, 100, 10);
    expect(inPath).toBe("M0.0,10.0L50.0,0.0L100.0,5.0");
    expect(outPath).toBe("M0.0,5.0h1M100.0,0.0h1"); // null at t=50: two pieces of one point each
    expect(sparkPaths(toChart({ ...rate, range_seconds: 100, series: [{ labels: {}, points: [[0, 0], [50, 0]] }] }, 100), 100, 10))
      .toEqual(["M0.0,10.0L50.0,10.0"]); // all zero: along the bottom
  });
});
