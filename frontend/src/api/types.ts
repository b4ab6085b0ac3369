// The API's JSON under the names the UI uses: aliases of the schemas in
// schema.d.ts, which openapi-typescript generates from the server's
// /openapi.json (npm run gen-types; make test checks it is current). Only
// what the document cannot say is written here: the narrower values the
// UI relies on (a graph's layout, the series it charts).
import type { components } from "./schema";

type Schemas = components["schemas"];

export type User = Schemas["User"];
export type Role = User["role"];
export type LoginResponse = Schemas["LoginResponse"];

export type Cluster = Schemas["Cluster"];
export type TopicInfo = Schemas["KafkaTopic"];
export type FunctionVersion = Schemas["FunctionVersion"];

/** A worker as GET /workers lists it. */
export type WorkerRef = Schemas["Worker"];
export type Autoscale = Schemas["Autoscale"];
export type WorkerStatus = Schemas["WorkerStatus"];
export type Allocation = Schemas["Allocation"];
export type WorkerMetrics = Schemas["WorkerMetrics"];
/** A worker of GET /pipelines/{id}/status?metrics=true: its status and, when asked, its metrics. */
export type PipelineWorkerStatus = WorkerStatus & { metrics?: WorkerMetrics | null; metrics_error?: string };

export type Direction = "TB" | "LR";

/** How the editor lays a graph out; the server keeps it as given. */
export interface Layout {
  direction: Direction;
  node_sep: number;
  rank_sep: number;
}

/** The pipeline JSON: the original editor's {workers, topics} plus positions and layout. */
export type Graph = Omit<Schemas["Graph"], "layout"> & { layout?: Layout };
export type GraphWorker = Schemas["GraphWorker"];
export type GraphTopic = Schemas["GraphTopic"];
export type Position = Schemas["Position"];
/** A worker's settings that travel in the graph: a graph worker less its identity and edges. */
export type WorkerSettings = Omit<GraphWorker, "id" | "name" | "input_topics" | "output_topics">;

export type Pipeline = Omit<Schemas["Pipeline"], "graph"> & { graph: Graph };
export type PipelineSummary = Schemas["PipelineSummary"];

export type TraceSummary = Schemas["TraceSummary"];
export type Span = Schemas["TraceSpan"];
export type Trace = Schemas["Trace"];

/** What GET /workers/{id}/series can chart; rate has an "in" and an "out" series. */
export type SeriesMetric = "lag" | "rate" | "dead_letters" | "expired" | "latency_p99";
/** One Prometheus series: its labels and [unix seconds, value] points. */
export type Series = Schemas["Series"];
/** A worker's metric over a range, as Prometheus' query_range answered it. */
export type WorkerSeries = Omit<Schemas["SeriesResult"], "metric"> & { metric: SeriesMetric };

/** An Alertmanager alert as the API stored it from the webhook. */
export type Alert = Schemas["Alert"];
export type AlertStatus = Alert["status"];

// Hand-written still: the workers and functions pages' shapes, to be
// replaced by aliases of schema.d.ts as their Go types get schema names.
export interface Worker extends Omit<WorkerSettings, "cluster_id"> {
  id: number;
  name: string;
  input_topics: string[];
  output_topics: string[];
  cluster_id: number | null;
  kafka_bootstrap_server: string;
  function: string;
  function_version: string;
  pipeline_id: number | null;
  desired_state: "running" | "stopped";
  config_version: number;
  updated_at: string;
}

export interface WorkerOverview extends Worker {
  pipeline_name: string | null;
  job: { status: string; stopped: boolean } | null;
  running: number | null;
  healthy: number | null;
  desired: number | null;
  lag: number | null;
  in_per_sec: number | null;
  out_per_sec: number | null;
}

export interface WorkersOverview {
  workers: WorkerOverview[];
  warnings: string[];
  sampled_at: string;
}

export interface ConfigVersion {
  version: number;
  created_at: string;
  created_by: number | null;
  /** that user's email; null when not known (absent from older servers) */
  created_by_email?: string | null;
  snapshot: Record<string, unknown>;
}

export interface AllocationLogs {
  worker: string;
  allocation: string;
  stream: "stdout" | "stderr";
  tail_bytes: number;
  text: string;
}

export interface DeadLetter {
  partition: number;
  offset: number;
  timestamp: string;
  key: string;
  value: string;
  encoding: "utf8" | "base64";
  worker?: string;
  class?: string;
  error?: string;
  source: { topic: string; partition: number; offset: number } | null;
  join_id?: string;
  join_topics?: string[];
  expired?: boolean;
  redrive_count: number;
  headers: { key: string; value: string }[];
  redriven: { topic: string; partition: number; offset: number; by: string; at: string } | null;
}

export interface Cursor {
  partition: number;
  offset: number;
}

export interface DeadLetterPage {
  topic: string;
  partitions: { partition: number; start: number; end: number }[];
  letters: DeadLetter[];
  next: Cursor | null;
}

export interface RedriveRequest {
  offsets?: Cursor[];
  up_to?: Cursor[];
  class?: string;
  to_topic?: string;
  reason?: string;
}

export interface RedriveResult {
  topic: string;
  redriven: number;
  already_redriven: number;
  refused: number;
  failed: number;
  outcomes: { partition: number; offset: number; status: string; reason?: string }[];
}

export interface TopicOffset {
  topic: string;
  partition: number;
  offset: number;
}

export type ResetTarget = "earliest" | "latest" | { timestamp: string } | { offsets: TopicOffset[] };

export interface ResetRequest {
  to: ResetTarget;
  stop?: boolean;
  clear_tombstones?: boolean;
  reason?: string;
  dry_run?: boolean;
}

export interface ResetResult {
  from: TopicOffset[] | null;
  to: TopicOffset[] | null;
  stopped: boolean;
  redeployed: boolean;
  tombstones_cleared: number | null;
  dry_run?: boolean;
}

export interface WorkerEvent {
  id: number;
  at: string;
  actor: string;
  action: string;
  worker_id?: number;
  pipeline_id?: number;
  from?: unknown;
  to?: unknown;
  reason: string;
}
