import { describe, expect, it } from "vitest";
import type { Alert } from "../api/types";
import { createFiringStore } from "./store";

describe("firing alerts store", () => {
  it("keeps the last alerts when a refresh fails, and says why", async () => {
    const answers: (Alert[] | Error)[] = [[{ id: 1 } as Alert], new Error("HTTP 502")];
    const s = createFiringStore(async () => {
      const a = answers.shift()!;
      if (a instanceof Error) throw a;
      return a;
    });
    await s.getState().refresh();
    expect(s.getState().alerts).toHaveLength(1);
    await s.getState().refresh();
    expect(s.getState().alerts).toHaveLength(1);
    expect(s.getState().error).toBe("HTTP 502");
  });
});
