import { describe, expect, it } from "vitest";
import type { FunctionVersion } from "../api/types";
import { defaultVersion, functionNames, isTestVersion, versionsOf } from "./functions";

const fv = (name: string, version: string, created_at: string): FunctionVersion => ({ name, version, created_at, sha256: "", size_bytes: 1, artifact_url: "", used_by: [], kind: "go" });
const fns = [
  fv("template", "1.0.0", "2026-11-01T00:00:00Z"),
  fv("template", "0.0.0-e2e", "2026-12-01T00:00:00Z"), // the newest, and a test's
  fv("template", "1.1.0", "2026-11-20T00:00:00Z"),
  fv("summarizer", "0.0.0-e2e.1790000000000", "2026-12-01T00:00:00Z"),
  fv("fn_testuploadrefused_0a1b2c3d", "1.0.0", "2026-12-01T00:00:00Z"),
];

describe("function versions", () => {
  it("tells test versions", () => {
    expect(["0.0.0-e2e", "0.0.0-e2e.1790000000000", "1.0.0+e2e"].every(isTestVersion)).toBe(true);
    expect(["1.0.0", "dev-e2e0be11be0a", "2.0.0-rc.1"].some(isTestVersion)).toBe(false);
  });

  it("never picks a test version by default", () => {
    expect(defaultVersion(fns, "template")).toBe("1.1.0");
    expect(defaultVersion(fns, "summarizer")).toBeUndefined();
    expect(defaultVersion(fns, undefined)).toBeUndefined();
  });

  it("lists versions newest first, the tests' last", () => {
    expect(versionsOf(fns, "template").map((f) => f.version)).toEqual(["1.1.0", "1.0.0", "0.0.0-e2e"]);
  });

  it("hides the functions test runs named, unless asked or chosen", () => {
    expect(functionNames(fns, false)).toEqual(["summarizer", "template"]);
    expect(functionNames(fns, true)).toHaveLength(3);
    expect(functionNames(fns, false, "fn_testuploadrefused_0a1b2c3d")).toHaveLength(3);
  });
});
