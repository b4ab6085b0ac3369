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
  /** workers deployed (desired running) and, of those, healthy; null when the server could not ask Nomad */
  health?: { deployed: number; healthy: number } | null;
}

export interface FunctionVersion {
  name: string;
  version: string;
  sha256: string;
  size_bytes: number;
  created_at: string;
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
}

export interface Allocation {
  id: string;
  client_status: string;
  healthy: boolean | null;
  task_state?: string;
  last_event?: string;
  failed_reason?: string;
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
  /** allocations running and meant to run */
  running: number;
  /** of those, the ones their deployment judged healthy */
  healthy: number;
  /** of those, the ones no deployment has judged yet (during a rollout or scale, or rescheduled outside one); absent from older servers */
  unverified?: number;
  desired: number;
}

/** One worker of GET /pipelines/{id}/status?metrics=true. */
export interface PipelineWorkerStatus extends WorkerStatus {
  /** null or absent for a worker never deployed, or when its Kafka did not answer (metrics_error) */
  metrics?: WorkerMetrics | null;
  metrics_error?: string;
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
  /** the trace's page in the external Jaeger UI; "" when the server has none (TRIBUTARY_JAEGER_UI_URL) */
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
  /** "" when the server has no external Jaeger UI */
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
