import { describe, expect, it } from "vitest";
import { filterNames, isTestName } from "./testnames";

const now = Date.UTC(2026, 11, 1, 13, 0);
const stamp = (d: number) => d.toString(36);

describe("isTestName", () => {
  it("knows the names the tests make", () => {
    for (const n of [
      "e2e-k3j4h5",
      "e2e-obs-mi8x2k3a",
      "E2E_Something",
      "e2e-teste2edemopipeline-1a2b3c4d-documents.raw", // infra/demo's e2e prefix
      "smoke_testsmokeworker_0a1b2c3d", // stacktest.Name as it comes
      "chaos-testchaosworkerkill-deadbeef.left", // '_' turned to '-', with a suffix
      "prom-testpromscrapesworkers-00ff00ff-relay",
      "in_testlagfollowsthebroker_sub_12345678",
      "w_benchmarkruntime_abcdef01",
      "lag_fuzzmerge_abcdef01.dlq",
      `in1-${stamp(now - 3_600_000)}`, // editor.e2e.mjs
      `out-${stamp(now - 86_400_000 * 30)}`,
      `perf-${stamp(now - 60_000)}-t12`,
      `w-${stamp(now)}`,
    ]) {
      expect(isTestName(n, now), n).toBe(true);
    }
  });

  it("leaves real names alone", () => {
    for (const n of [
      "documents.raw",
      "documents.enriched",
      "raw-data",
      "language-detector",
      "summarizer",
      "enricher",
      "enricher.dlq",
      "__consumer_offsets",
      "orders_test_results", // no 8-hex run id
      "payments-testing", // no run id
      "out-payments", // a word, not a base-36 time
      "in1-abcdefgh",
      `in1-${stamp(now + 30 * 86_400_000)}`, // a "time" in the future
      "w-00000001", // a time before 2024
      "te2e-x",
      "orders_testfoo_1234567", // 7 hex
      "orders_testfoo_123456789", // 9 hex, no separator after 8
    ]) {
      expect(isTestName(n, now), n).toBe(false);
    }
  });
});

describe("filterNames", () => {
  const topics = ["documents.raw", "e2e-abc", "smoke_testsmoke_0a1b2c3d", "documents.enriched", "orders"];
  const id = (s: string) => s;

  it("hides test names unless asked, and counts them", () => {
    expect(filterNames(topics, id, { showTest: false, text: "" }, now)).toEqual({
      shown: ["documents.raw", "documents.enriched", "orders"], hidden: 2,
    });
    expect(filterNames(topics, id, { showTest: true, text: "" }, now)).toEqual({ shown: topics, hidden: 0 });
  });

  it("filters by text, case-insensitive, counting only hidden names that match it", () => {
    expect(filterNames(topics, id, { showTest: false, text: " DOC " }, now)).toEqual({
      shown: ["documents.raw", "documents.enriched"], hidden: 0,
    });
    expect(filterNames(topics, id, { showTest: false, text: "e2e" }, now)).toEqual({ shown: [], hidden: 1 });
    expect(filterNames(topics, id, { showTest: true, text: "e2e" }, now)).toEqual({ shown: ["e2e-abc"], hidden: 0 });
  });

  it("works on objects", () => {
    const groups = [{ id: "enricher" }, { id: "w_testx_00000000" }];
    expect(filterNames(groups, (g) => g.id, { showTest: false, text: "" }, now).shown).toEqual([{ id: "enricher" }]);
  });
});
