import { describe, expect, it, vi } from "vitest";
import { api, ApiError, fieldErrors, prometheusMissing, toApiError } from "./client";

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

describe("observability routes", () => {
  it("tells a server without Prometheus by its 503 naming TRIBUTARY_PROMETHEUS_URL", () => {
    const body = { error: { code: "unavailable", message: "Prometheus is not configured: set TRIBUTARY_PROMETHEUS_URL" } };
    expect(prometheusMissing(toApiError(503, body))).toBe(true);
    expect(prometheusMissing(toApiError(503, { error: { code: "unavailable", message: "Prometheus did not answer" } }))).toBe(false);
    expect(prometheusMissing(toApiError(500, body))).toBe(false);
    expect(prometheusMissing(new Error("TRIBUTARY_PROMETHEUS_URL"))).toBe(false);
  });

  it("asks for a series and for alerts with their query parameters", async () => {
    const asked: string[] = [];
    vi.stubGlobal("localStorage", { getItem: () => "tok" });
    vi.stubGlobal("fetch", async (path: string) => {
      asked.push(path);
      return new Response(JSON.stringify(path.includes("alerts") ? { alerts: [{ id: 1 }] } : { series: [] }), { status: 200 });
    });
    try {
      await api.series(3, "rate");
      expect(await api.alerts("firing", "en richer", 5)).toEqual([{ id: 1 }]);
      expect(asked).toEqual([
        "/api/v1/workers/3/series?metric=rate&range=1h&step=30s",
        "/api/v1/alerts?state=firing&limit=5&worker=en+richer",
      ]);
    } finally {
      vi.unstubAllGlobals();
    }
  });
});
