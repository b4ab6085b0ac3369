import { describe, expect, it } from "vitest";
import type { PipelineSummary } from "../api/types";
import { listHealth } from "./PipelineList";

const p = (workers: number, health: PipelineSummary["health"]): PipelineSummary => ({ id: 1, name: "p", version: 1, workers, updated_at: "", health });

describe("the list's health", () => {
  it.each([
    ["no Nomad answer", p(2, null), "–", "idle"],
    ["no workers", p(0, { deployed: 0, healthy: 0 }), "no workers", "idle"],
    ["none deployed", p(3, { deployed: 0, healthy: 0 }), "not deployed", "idle"],
    ["all healthy", p(3, { deployed: 3, healthy: 3 }), "3/3 healthy", "ok"],
    ["some deployed", p(3, { deployed: 2, healthy: 2 }), "2/2 healthy (2 of 3 deployed)", "ok"],
    ["one unhealthy", p(3, { deployed: 3, healthy: 2 }), "2/3 healthy", "bad"],
  ] as const)("%s", (_, summary, text, tone) => {
    expect(listHealth(summary)).toEqual({ text, tone });
  });
});
