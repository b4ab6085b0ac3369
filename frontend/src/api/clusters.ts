// The Kafka clusters' routes: registration, connectivity, topics,
// consumer groups and the message browser (apiserver/httpapi/clusters.go
// and the kafkaadmin package give the shapes).
import { call } from "./client";
import type { Cluster, TopicInfo } from "./types";

export interface ClusterDetail extends Cluster {
  created_at: string;
  updated_at: string;
}

export interface ClusterInput {
  name: string;
  bootstrap_servers: string[];
}

export interface Broker {
  id: number;
  host: string;
  port: number;
  rack?: string;
}

/** POST /clusters/{id}/check: always 200; ok false says the cluster did not answer, error why. */
export interface CheckResult {
  ok: boolean;
  brokers: Broker[];
  controller: Broker | null;
  error?: string;
  latency_ms: number;
}

export interface TopicInput {
  name: string;
  partitions: number;
  replication_factor: number;
}

export interface GroupMember {
  id: string;
  client_id: string;
  host: string;
  assignments: { topic: string; partitions: number[] }[];
}

export interface PartitionPosition {
  partition: number;
  /** -1: the group committed nothing on it */
  committed: number;
  end: number;
  lag: number;
}

export interface GroupTopic {
  topic: string;
  partitions: number;
  committed: number;
  end: number;
  lag: number;
  /** absent from servers older than the clusters pages */
  by_partition?: PartitionPosition[];
}

export interface ConsumerGroup {
  id: string;
  state: string;
  members: number;
  consumers: GroupMember[];
  topics: GroupTopic[];
  lag: number;
}

/** A key, value or header value: UTF-8 text, or base64 when encoding says so; cut at 64 KiB (truncated). */
export interface Data {
  text: string;
  encoding: "utf8" | "base64";
  size: number;
  truncated?: boolean;
}

export interface Message {
  partition: number;
  offset: number;
  timestamp: string;
  key: Data | null;
  value: Data | null;
  headers: { key: string; value: Data }[];
}

export interface MessagePage {
  topic: string;
  partition: number;
  partitions: number;
  start: number;
  end: number;
  from: number;
  next: number;
  messages: Message[];
}

/** Where the browser reads from; exactly one of offset, timestamp (RFC 3339) and from. */
export type BrowseFrom =
  | { from: "latest" | "earliest" }
  | { offset: number }
  | { timestamp: string };

/** A worker as GET /workers lists it, with what ties it to a cluster. */
export interface WorkerOfCluster {
  id: number;
  name: string;
  pipeline_id: number | null;
  cluster_id: number | null;
  kafka_bootstrap_server: string;
}

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
