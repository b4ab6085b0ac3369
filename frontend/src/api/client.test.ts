import { describe, expect, it } from "vitest";
import { ApiError, fieldErrors, toApiError } from "./client";

describe("API errors", () => {
  it("reads the error body", () => {
    const e = toApiError(422, { error: { code: "invalid", message: "must be between 1 and 64", field: "instances" } });
    expect(e).toBeInstanceOf(ApiError);
    expect([e.status, e.code, e.message, e.field]).toEqual([422, "invalid", "must be between 1 and 64", "instances"]);
    expect(toApiError(502, "<html>").message).toBe("HTTP 502");
  });

  it("maps a field onto the worker it belongs to", () => {
    const e = new ApiError(422, "invalid", "must be between 1 and 86400", "graph.workers[2].timeout_seconds");
    expect(fieldErrors(e, 2)).toEqual({ timeout_seconds: "must be between 1 and 86400" });
    expect(fieldErrors(e, 1)).toEqual({});
    expect(fieldErrors(new ApiError(422, "invalid", "bad", "instances"), 0)).toEqual({ instances: "bad" });
    expect(fieldErrors(new ApiError(409, "conflict", "taken", "graph.topics[0].name"), 0)).toEqual({});
    expect(fieldErrors(new ApiError(500, "internal", "x"))).toEqual({});
  });
});
