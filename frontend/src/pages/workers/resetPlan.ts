// What a reset of a worker's offsets will do, partition by partition, from
// the API's dry run (committed → target) and the partitions' end offsets
// (its metrics): pure, so the confirmation's numbers are tested.
import type { TopicOffset, WorkerMetrics } from "../../api/types";

export interface PartitionPlan {
  topic: string;
  partition: number;
  /** the group's committed offset; null when it never committed there */
  committed: number | null;
  target: number;
  end: number | null;
  /** records before the commit that will be processed again */
  again: number;
  /** records not yet processed that will never be */
  skipped: number;
}

export interface ResetPlan {
  partitions: PartitionPlan[];
  again: number;
  skipped: number;
  /** records after the target still to process once the worker resumes */
  pending: number;
}

const key = (o: { topic: string; partition: number }) => `${o.topic}/${o.partition}`;

/**
 * resetPlan compares where the group is with where it would go. A
 * partition without a commit is processed from wherever the target is,
 * so nothing there counts as "again".
 */
export function resetPlan(from: TopicOffset[] | null, to: TopicOffset[] | null, metrics: WorkerMetrics | null): ResetPlan {
  const committed = new Map((from ?? []).map((o) => [key(o), o.offset]));
  const ends = new Map((metrics?.lag.partitions ?? []).map((p) => [key(p), p.high_watermark]));
  const partitions = (to ?? []).map((t): PartitionPlan => {
    const c = committed.get(key(t)) ?? null;
    const end = ends.get(key(t)) ?? null;
    return {
      topic: t.topic, partition: t.partition, committed: c, target: t.offset, end,
      again: c === null ? 0 : Math.max(c - t.offset, 0),
      skipped: c === null ? 0 : Math.max(t.offset - c, 0),
    };
  });
  const sum = (f: (p: PartitionPlan) => number) => partitions.reduce((n, p) => n + f(p), 0);
  return {
    partitions,
    again: sum((p) => p.again),
    skipped: sum((p) => p.skipped),
    pending: sum((p) => (p.end === null ? 0 : Math.max(p.end - p.target, 0))),
  };
}

/** planSentence says in one line what the plan does. */
export function planSentence(p: ResetPlan): string {
  const parts: string[] = [];
  if (p.again > 0) parts.push(`${p.again} already processed record${p.again === 1 ? "" : "s"} will be processed again`);
  if (p.skipped > 0) parts.push(`${p.skipped} unprocessed record${p.skipped === 1 ? "" : "s"} will be skipped`);
  if (parts.length === 0) parts.push("no partition moves: nothing is reprocessed or skipped");
  return `${parts.join("; ")}. Afterwards ${p.pending} record${p.pending === 1 ? "" : "s"} wait${p.pending === 1 ? "s" : ""} to be processed.`;
}
