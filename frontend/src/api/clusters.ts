// The Kafka clusters' routes: registration, connectivity, topics,
// consumer groups and the message browser (apiserver/httpapi/clusters.go
// and the kafkaadmin package give the shapes).
import { call } from "./client";
import type { components } from "./schema";
import type { Cluster, TopicInfo } from "./types";

// The shapes are the server's, generated into schema.d.ts.
type Schemas = components["schemas"];

export type ClusterDetail = Schemas["Cluster"];
export type ClusterInput = Schemas["ClusterInput"];
export type Broker = Schemas["KafkaBroker"];
/** POST /clusters/{id}/check: always 200; ok false says the cluster did not answer, error why. */
export type CheckResult = Schemas["KafkaCheck"];
export type TopicInput = Schemas["TopicInput"];
export type GroupMember = Schemas["KafkaMember"];
/** committed -1: the group committed nothing on the partition */
export type PartitionPosition = Schemas["KafkaPartitionPosition"];
export type GroupTopic = Schemas["KafkaGroupTopic"];
export type ConsumerGroup = Schemas["KafkaGroup"];
/** A key, value or header value: UTF-8 text, or base64 when encoding says so; cut at 64 KiB (truncated). */
export type Data = Omit<Schemas["KafkaData"], "encoding"> & { encoding: "utf8" | "base64" };
/** key and value are always sent, null when the record has none. */
export type Message = Omit<Schemas["KafkaMessage"], "key" | "value" | "headers"> & {
  key: Data | null;
  value: Data | null;
  headers: { key: string; value: Data }[];
};
export type MessagePage = Omit<Schemas["KafkaMessagePage"], "messages"> & { messages: Message[] };

/** Where the browser reads from; exactly one of offset, timestamp (RFC 3339) and from. */
export type BrowseFrom =
  | { from: "latest" | "earliest" }
  | { offset: number }
  | { timestamp: string };

/** A worker as GET /workers lists it, with what ties it to a cluster. */
export type WorkerOfCluster = Pick<Schemas["Worker"], "id" | "name" | "pipeline_id" | "cluster_id" | "kafka_bootstrap_server">;

const base = (id: number) => `/api/v1/clusters/${id}`;

export const clustersApi = {
  list: () => call<ClusterDetail[]>("GET", "/api/v1/clusters"),
  get: (id: number) => call<ClusterDetail>("GET", base(id)),
  create: (c: ClusterInput) => call<ClusterDetail>("POST", "/api/v1/clusters", c),
  update: (id: number, c: ClusterInput) => call<ClusterDetail>("PUT", base(id), c),
  remove: (id: number) => call<null>("DELETE", base(id)),
  check: (id: number) => call<CheckResult>("POST", `${base(id)}/check`),
  topics: (id: number) => call<TopicInfo[]>("GET", `${base(id)}/topics`),
  createTopic: (id: number, t: TopicInput) => call<TopicInput>("POST", `${base(id)}/topics`, t),
  groups: (id: number) => call<ConsumerGroup[]>("GET", `${base(id)}/groups`),
  messages: (id: number, topic: string, partition: number, from: BrowseFrom, limit: number) => {
    const q = new URLSearchParams({ partition: String(partition), limit: String(limit) });
    for (const [k, v] of Object.entries(from)) q.set(k, String(v));
    return call<MessagePage>("GET", `${base(id)}/topics/${encodeURIComponent(topic)}/messages?${q}`);
  },
  workers: () => call<WorkerOfCluster[]>("GET", "/api/v1/workers"),
};

/**
 * usesCluster tells whether a worker reads and writes through cluster c:
 * it names it, or (a worker from before clusters were registered) it has
 * no cluster but the same bootstrap servers.
 */
export function usesCluster(w: WorkerOfCluster, c: Cluster): boolean {
  if (w.cluster_id !== null && w.cluster_id !== undefined) return w.cluster_id === c.id;
  const servers = (w.kafka_bootstrap_server ?? "").split(",").map((s) => s.trim()).filter(Boolean).sort();
  const mine = [...c.bootstrap_servers].sort();
  return servers.length > 0 && servers.length === mine.length && servers.every((s, i) => s === mine[i]);
}
