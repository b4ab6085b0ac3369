import { describe, expect, it } from "vitest";
import type { Worker } from "../../api/types";
import { topicList, workerInput } from "./workerInput";

const w: Worker = {
  id: 3, name: "shout", input_topics: ["documents.enriched"], output_topics: ["documents.shouted"], cluster_id: null,
  kafka_bootstrap_server: "127.0.0.1:9092", function: "shout", function_version: "1.0.0", metadata: { k: 1 },
  timeout_seconds: 240, instances: 2, join_key: "id", expiry_topic: "", dead_letter_topic: "", tombstone_ttl_seconds: 0,
  pipeline_id: null, autoscale: null, desired_state: "running", config_version: 4, updated_at: "2025-12-01T10:00:00Z",
};

describe("worker PUT body", () => {
  it("sends back every setting with the page's changes", () => {
    const body = workerInput(w, { timeout_seconds: 120, output_topics: ["x", "y"] });
    expect(body).toEqual({
      name: "shout", input_topics: ["documents.enriched"], output_topics: ["x", "y"], cluster_id: null,
      kafka_bootstrap_server: "127.0.0.1:9092", function: "shout", function_version: "1.0.0", metadata: { k: 1 },
      timeout_seconds: 120, instances: 2, join_key: "id", expiry_topic: "", dead_letter_topic: "", tombstone_ttl_seconds: 0,
      autoscale: null,
    });
    expect(body).not.toHaveProperty("config_version");
  });

  it("drops the version with the function", () => {
    const body = workerInput(w, { function: undefined, function_version: undefined });
    expect([body.function, body.function_version]).toEqual(["", ""]);
  });

  it("reads topic lists", () => {
    expect(topicList(" a, b  c,,")).toEqual(["a", "b", "c"]);
  });
});
