// The API's JSON, as /openapi.json describes it.

export type Role = "viewer" | "editor" | "admin";

export interface User {
  id: number;
  email: string;
  role: Role;
}

export interface LoginResponse {
  access_token: string;
  expires_at: string;
  user: User;
}

/** A worker's settings that travel in the graph. */
export interface WorkerSettings {
  function?: string;
  function_version?: string;
  metadata?: Record<string, unknown> | null;
  timeout_seconds?: number;
  instances?: number;
  join_key?: string;
  expiry_topic?: string;
  dead_letter_topic?: string;
  /** seconds a completed id keeps its tombstone; 0 or absent: 3600 */
  tombstone_ttl_seconds?: number;
  cluster_id?: number;
  /** lag autoscaling by the API server's autoscaler; null or absent: off */
  autoscale?: Autoscale | null;
}

/** A worker's lag autoscaling, as KEDA's Kafka scaler: instances = ceil(lag / lag_per_instance) within [min, max]. */
export interface Autoscale {
  enabled: boolean;
  min?: number;
  max: number;
  lag_per_instance: number;
  activation_lag: number;
  cooldown_seconds?: number;
}

export interface GraphWorker extends WorkerSettings {
  id: string;
  name: string;
  input_topics: string[];
  output_topics: string[];
}

export interface GraphTopic {
  id: string;
  name: string;
}

export interface Position {
  x: number;
  y: number;
}

export type Direction = "TB" | "LR";

export interface Layout {
  direction: Direction;
  node_sep: number;
  rank_sep: number;
}

/** The pipeline JSON: the original editor's {workers, topics} plus positions and layout. */
export interface Graph {
  workers: GraphWorker[];
  topics: GraphTopic[];
  positions?: Record<string, Position>;
  layout?: Layout;
}

export interface Pipeline {
  id: number;
  name: string;
  version: number;
  graph: Graph;
  worker_ids: Record<string, number>;
  updated_at: string;
}

export interface PipelineSummary {
  id: number;
  name: string;
  version: number;
  workers: number;
  updated_at: string;
}

export interface FunctionVersion {
  name: string;
  version: string;
  sha256: string;
  size_bytes: number;
  created_at: string;
  artifact_url?: string;
  /** the uploader's email; null when not known (absent from older servers) */
  uploaded_by?: string | null;
  /** the workers whose settings name this version (absent from older servers) */
  used_by?: { id: number; name: string }[];
}

export interface Cluster {
  id: number;
  name: string;
  bootstrap_servers: string[];
}

export interface TopicInfo {
  name: string;
  internal: boolean;
  partition_count: number;
  /** by id, with each one's leader and high watermark (the offset the next record will get) */
  partitions?: { id: number; leader: number; high_watermark: number }[];
}

export interface Allocation {
  id: string;
  name?: string;
  node?: string;
  job_version?: number;
  client_status: string;
  healthy: boolean | null;
  restarts?: number;
  task_state?: string;
  last_event?: string;
  failed_reason?: string;
  /** when its task last started; null before (absent from older servers) */
  started_at?: string | null;
  last_event_at?: string | null;
}

export interface WorkerStatus {
  worker: string;
  worker_id: number;
  desired_state: "running" | "stopped";
  instances: number;
  job: { id: string; status: string; stopped: boolean; version: number } | null;
  deployment: { status: string; description: string } | null;
  allocations: Allocation[];
  placement_failures: string[];
  running: number;
  healthy: number;
  desired: number;
}

export interface WorkerMetrics {
  worker: string;
  lag: {
    total: number;
    by_topic: Record<string, number>;
    partitions: { topic: string; partition: number; committed: number; high_watermark: number; lag: number }[];
  };
  throughput: {
    in_per_sec: number;
    out_per_sec: number;
    in_per_sec_by_topic: Record<string, number>;
    window_seconds: number;
    /** where the rates come from: Prometheus' rate() or the API's own sampler (absent from older servers) */
    source?: "prometheus" | "sampler";
  };
  instances: { heartbeats: number; allocations_running: number; allocations_desired: number };
  pending_aggregates: number | null;
  expired: number;
  dead_lettered: number;
  errors: { time: string; instance: string; message: string }[];
  warnings: string[];
}

export interface TraceSummary {
  trace_id: string;
  start: string;
  duration_us: number;
  span_count: number;
  services: string[];
  root_operation: string;
  errors: number;
  jaeger_url: string;
}

export interface Span {
  trace_id: string;
  span_id: string;
  parent_span_id?: string;
  links: { trace_id: string; span_id: string }[];
  service: string;
  operation: string;
  start: string;
  duration_us: number;
  attributes: Record<string, unknown>;
  status: "ok" | "error";
}

export interface Trace {
  trace_id: string;
  jaeger_url: string;
  spans: Span[];
}

/** What GET /workers/{id}/series can chart; rate has an "in" and an "out" series. */
export type SeriesMetric = "lag" | "rate" | "dead_letters" | "expired" | "latency_p99";

/** One Prometheus series: its labels and [unix seconds, value] points. */
export interface Series {
  labels: Record<string, string>;
  points: [number, number][];
}

/** A worker's metric over a range, as Prometheus' query_range answered it. */
export interface WorkerSeries {
  worker: string;
  metric: SeriesMetric;
  unit: string;
  range_seconds: number;
  step_seconds: number;
  query: string;
  series: Series[];
}

export type AlertStatus = "firing" | "resolved";

/** An Alertmanager alert as the API stored it from the webhook. */
export interface Alert {
  id: number;
  fingerprint: string;
  name: string;
  status: AlertStatus;
  severity: string;
  worker: string;
  summary: string;
  description: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** the Prometheus expression page of the rule, as Alertmanager passed it */
  generator_url?: string;
  starts_at: string;
  ends_at: string | null;
  updated_at: string;
}

/** A worker as GET /workers lists it; the UI reads only what links an alert to its pipeline. */
export interface WorkerRef {
  id: number;
  name: string;
  pipeline_id: number | null;
}

/** A worker as GET /workers/{id} answers it: every setting, flat. */
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

/** A worker with how it is doing, as GET /workers/overview lists it; a live field is null when its source did not answer. */
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

/** One config version of a worker: the whole row as it was saved. */
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

/** Where POST /workers/{id}/offsets moves the group: a position, a time, or offsets. */
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

/** One entry of the event log: who did what to which worker, when, and why. */
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
