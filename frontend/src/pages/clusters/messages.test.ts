import { describe, expect, it } from "vitest";
import type { Data } from "../../api/clusters";
import { dataText, decode, isoToLocalInput, localInputToISO, size, sortedHeaders, traceOf } from "./messages";

const utf8 = (text: string, truncated = false): Data => ({ text, encoding: "utf8", size: text.length, truncated });
const hdr = (key: string, value: string) => ({ key, value: utf8(value) });

describe("decode", () => {
  it("parses JSON objects and arrays", () => {
    expect(decode(utf8(' {"a":[1,2],"b":{"c":null}}\n'))).toEqual({ kind: "json", value: { a: [1, 2], b: { c: null } } });
    expect(decode(utf8("[1]"))).toEqual({ kind: "json", value: [1] });
  });
  it("leaves other text as text", () => {
    expect(decode(utf8("hello"))).toEqual({ kind: "text", text: "hello" });
    expect(decode(utf8("42"))).toEqual({ kind: "text", text: "42" });
    expect(decode(utf8("{not json"))).toEqual({ kind: "text", text: "{not json" });
  });
  it("never parses a truncated value", () => {
    expect(decode(utf8('{"a":1}', true))).toEqual({ kind: "text", text: '{"a":1}' });
  });
  it("shows bytes as base64", () => {
    expect(decode({ text: "/wD+", encoding: "base64", size: 3 })).toEqual({ kind: "binary", base64: "/wD+" });
    expect(dataText({ text: "/wD+", encoding: "base64", size: 3 })).toBe("base64:/wD+");
    expect(dataText(null)).toBe("");
  });
});

describe("traceOf", () => {
  const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  it("reads the trace id of a W3C traceparent", () => {
    expect(traceOf({ headers: [hdr("tributary.worker", "w"), hdr("traceparent", tp)] })).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
    expect(traceOf({ headers: [hdr("Traceparent", tp.toUpperCase())] })).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
  });
  it("refuses what is not one", () => {
    expect(traceOf({ headers: [] })).toBeNull();
    expect(traceOf({ headers: [hdr("traceparent", "garbage")] })).toBeNull();
    expect(traceOf({ headers: [hdr("traceparent", "00-00000000000000000000000000000000-00f067aa0ba902b7-01")] })).toBeNull();
    expect(traceOf({ headers: [hdr("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01")] })).toBeNull();
    expect(traceOf({ headers: [hdr("traceparent", "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")] })).toBeNull();
    expect(traceOf({ headers: [{ key: "traceparent", value: { text: "AAEC", encoding: "base64", size: 3 } }] })).toBeNull();
  });
});

describe("sortedHeaders", () => {
  it("puts traceparent, then tributary.*, then the rest, keeping their order", () => {
    const hs = [hdr("x", "1"), hdr("tributary.b", "2"), hdr("traceparent", "3"), hdr("tributary.a", "4"), hdr("y", "5")];
    expect(sortedHeaders({ headers: hs }).map((h) => h.key)).toEqual(["traceparent", "tributary.b", "tributary.a", "x", "y"]);
  });
});

describe("times and sizes", () => {
  it("round-trips a local time through RFC 3339", () => {
    const iso = localInputToISO("2026-03-04T05:06");
    expect(iso).toBe(new Date(2026, 2, 4, 5, 6).toISOString());
    expect(isoToLocalInput(iso)).toBe("2026-03-04T05:06:00");
    expect(localInputToISO("")).toBe("");
    expect(localInputToISO("yesterday")).toBe("");
  });
  it("sizes bytes", () => {
    expect(size(512)).toBe("512 B");
    expect(size(65536)).toBe("64.0 KiB");
    expect(size(3 * 1024 * 1024)).toBe("3.0 MiB");
  });
});
