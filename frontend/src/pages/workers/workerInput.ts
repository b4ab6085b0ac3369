// The body of PUT /workers/{id} from a worker as GET answered it and the
// changes made on the page. PUT replaces every setting (what is left out
// takes its default), so everything the worker has is sent back.
import type { Worker, WorkerInput, WorkerSettings } from "../../api/types";

/** What the worker page edits: the shared form's settings, plus topics for a worker outside a pipeline. */
export type WorkerPatch = WorkerSettings & { input_topics?: string[]; output_topics?: string[] };

export function workerInput(w: Worker, patch: WorkerPatch): WorkerInput {
  const m = { ...w, ...patch };
  return {
    name: w.name,
    input_topics: m.input_topics,
    output_topics: m.output_topics,
    cluster_id: m.cluster_id ?? null,
    kafka_bootstrap_server: w.kafka_bootstrap_server,
    function: m.function ?? "",
    function_version: m.function ? m.function_version ?? "" : "",
    metadata: m.metadata ?? null,
    timeout_seconds: m.timeout_seconds ?? undefined, // null: the default
    instances: m.instances ?? undefined,
    join_key: m.join_key,
    expiry_topic: m.expiry_topic ?? "",
    dead_letter_topic: m.dead_letter_topic ?? "",
    tombstone_ttl_seconds: m.tombstone_ttl_seconds ?? 0,
    autoscale: m.autoscale ?? null,
  };
}

/** topicList reads a comma- or space-separated list of topics. */
export function topicList(text: string): string[] {
  return text.split(/[\s,]+/).filter(Boolean);
}
