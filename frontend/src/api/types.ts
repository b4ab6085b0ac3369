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

// The workers and functions pages' shapes.
export type Worker = Schemas["Worker"];
export type DesiredState = Worker["desired_state"];
/** The body of PUT /workers/{id}: every setting, since what is left out takes its default. */
export type WorkerInput = Schemas["WorkerInput"];
export type WorkerOverview = Schemas["WorkerOverview"];
export type WorkersOverview = Schemas["Overview"];
/** snapshot is the worker's settings as they were saved in that version */
export type ConfigVersion = Omit<Schemas["WorkerVersion"], "snapshot"> & { snapshot: Record<string, unknown> };
export type AllocationLogs = Schemas["Logs"];

// Dead letters and replay.
export type DeadLetter = Schemas["DeadLetter"];
export type Cursor = Schemas["DeadLetterCursor"];
export type DeadLetterPage = Schemas["DeadLetterPage"];
export type RedriveRequest = Schemas["RedriveInput"];
export type RedriveResult = Schemas["DeadLetterRedriveResult"];
export type TopicOffset = Schemas["KafkaOffset"];
export type ResetResult = Schemas["ReplayResetResult"];
export type WorkerEvent = Schemas["Event"];

// The server decodes "to" itself (one of four shapes), so the schema says
// only "any JSON value"; the UI names the shapes.
export type ResetTarget = "earliest" | "latest" | { timestamp: string } | { offsets: TopicOffset[] };
export type ResetRequest = Omit<Schemas["OffsetsInput"], "to"> & { to: ResetTarget };
