import { describe, expect, it } from "vitest";
import { lineDiff, snapshotText } from "./diff";

describe("config version diff", () => {
  it("lines up two snapshots whatever their key order, without id and config_version", () => {
    const v1 = snapshotText({ id: 7, config_version: 1, timeout_seconds: 240, consumer_name: "shout", topics_input: ["a"] });
    const v2 = snapshotText({ topics_input: ["a"], consumer_name: "shout", timeout_seconds: 120, config_version: 2, id: 7 });
    const d = lineDiff(v1, v2);
    expect(d.filter((l) => l.op !== "same")).toEqual([
      { op: "removed", text: '  "timeout_seconds": 240,' },
      { op: "added", text: '  "timeout_seconds": 120,' },
    ]);
    expect(v1).not.toContain("config_version");
    expect(d.filter((l) => l.op === "same").map((l) => l.text)).toContain('  "consumer_name": "shout",');
  });

  it("diffs additions and removals at the ends", () => {
    expect(lineDiff("a\nb", "b\nc")).toEqual([
      { op: "removed", text: "a" }, { op: "same", text: "b" }, { op: "added", text: "c" },
    ]);
    expect(lineDiff("x", "x")).toEqual([{ op: "same", text: "x" }]);
  });
});
