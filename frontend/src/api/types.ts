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
