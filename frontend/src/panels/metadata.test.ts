import { describe, expect, it } from "vitest";
import { parseMetadata } from "./metadata";

describe("metadata field", () => {
  it("accepts an object, empty and null", () => {
    expect(parseMetadata('{"max_sentences": 3}')).toEqual({ value: { max_sentences: 3 } });
    expect(parseMetadata("  ")).toEqual({ value: null });
    expect(parseMetadata("null")).toEqual({ value: null });
  });
  it.each([["[1,2]", /JSON object/], ['"text"', /JSON object/], ["{bad", /not valid JSON/], ["3", /JSON object/]])(
    "refuses %s", (text, why) => {
      expect(parseMetadata(text).error).toMatch(why);
    });
});
