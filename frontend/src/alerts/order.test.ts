import { describe, expect, it } from "vitest";
import type { Alert } from "../api/types";
import { firingFor, groupAlerts, span, when } from "./order";

let id = 0;
const alert = (p: Partial<Alert>): Alert => ({
  id: ++id, fingerprint: `f${id}`, name: "TributaryLag", status: "firing", severity: "warning", worker: "enricher",
  summary: "", description: "", labels: {}, annotations: {}, starts_at: "2025-12-01T10:00:00Z", ends_at: null,
  generator_url: "", updated_at: "2025-12-01T10:00:00Z", ...p,
});

describe("alert order", () => {
  it("lists firing first, worst severity then newest, and resolved by most recent end", () => {
    const a = [
      alert({ name: "old-warning", starts_at: "2025-12-01T09:00:00Z" }),
      alert({ name: "resolved-early", status: "resolved", ends_at: "2025-12-01T09:30:00Z" }),
      alert({ name: "new-warning", starts_at: "2025-12-01T11:00:00Z" }),
      alert({ name: "critical", severity: "critical", starts_at: "2025-12-01T08:00:00Z" }),
      alert({ name: "odd", severity: "page-me" }),
      alert({ name: "resolved-late", status: "resolved", ends_at: null, updated_at: "2025-12-01T11:30:00Z" }),
      alert({ name: "info", severity: "INFO" }),
    ];
    const g = groupAlerts(a);
    expect(g.firing.map((x) => x.name)).toEqual(["critical", "new-warning", "old-warning", "info", "odd"]);
    expect(g.resolved.map((x) => x.name)).toEqual(["resolved-late", "resolved-early"]);
  });

  it("picks a worker's firing alerts", () => {
    const a = [alert({ worker: "a" }), alert({ worker: "b" }), alert({ worker: "a", status: "resolved" })];
    expect(firingFor(a, "a").map((x) => x.id)).toEqual([a[0].id]);
    expect(firingFor(a, "c")).toEqual([]);
  });
});

describe("alert times", () => {
  it("writes durations in their two largest units", () => {
    expect([0, 45e3, 12 * 60e3, 3 * 3600e3, (3 * 60 + 5) * 60e3, 2 * 86400e3 + 4 * 3600e3, -5].map(span))
      .toEqual(["0s", "45s", "12m", "3h", "3h 5m", "2d 4h", "0s"]);
  });

  it("says how long a firing alert fires, and when a resolved one ended", () => {
    const now = Date.parse("2025-12-01T10:30:00Z");
    expect(when(alert({}), now)).toBe("for 30m");
    expect(when(alert({ status: "resolved", ends_at: "2025-12-01T10:20:00Z" }), now)).toBe("ended 10m ago, lasted 20m");
  });
});
