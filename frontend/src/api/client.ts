// Every call to the API goes through here: the token, JSON, and errors
// turned into ApiError with the field the server named.
import type {
  Alert, Cluster, FunctionVersion, Graph, LoginResponse, Pipeline, PipelineSummary, SeriesMetric, TopicInfo, Trace,
  PipelineWorkerStatus, TraceSummary, User, WorkerRef, WorkerSeries,
} from "./types";

const TOKEN_KEY = "tributary.token";

/** An API refusal: {"error":{"code","message","field"}} and the HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** Parses an error body; anything else becomes a generic ApiError. */
export function toApiError(status: number, body: unknown): ApiError {
  const e = (body as { error?: { code?: string; message?: string; field?: string } } | null)?.error;
  if (e && typeof e.message === "string") {
    return new ApiError(status, e.code ?? "error", e.message, e.field || undefined);
  }
  return new ApiError(status, "error", `HTTP ${status}`);
}

/**
 * fieldErrors maps an error onto the form fields of a graph worker: the
 * server names "graph.workers[2].timeout_seconds" on a pipeline save and
 * "timeout_seconds" on a worker route. Returns {} when the error is about
 * another worker or has no field.
 */
export function fieldErrors(err: ApiError, workerIndex?: number): Record<string, string> {
  if (!err.field) return {};
  const m = /^graph\.workers\[(\d+)\]\.(.+)$/.exec(err.field);
  if (m) {
    if (workerIndex === undefined || Number(m[1]) !== workerIndex) return {};
    return { [m[2]]: err.message };
  }
  if (err.field.startsWith("graph.")) return {};
  return { [err.field]: err.message };
}

export const session = {
  token: (): string | null => localStorage.getItem(TOKEN_KEY),
  set: (t: string) => localStorage.setItem(TOKEN_KEY, t),
  clear: () => localStorage.removeItem(TOKEN_KEY),
};

/** Called on every 401 so the app can return to the login page. */
let onUnauthorized: () => void = () => {};
export function setUnauthorizedHandler(f: () => void) {
  onUnauthorized = f;
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  const token = session.token();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!res.ok && res.status !== 207) {
    if (res.status === 401 && !path.endsWith("/auth/login")) onUnauthorized();
    throw toApiError(res.status, json);
  }
  return json as T;
}

export const api = {
  login: (email: string, password: string) => call<LoginResponse>("POST", "/api/v1/auth/login", { email, password }),
  me: () => call<User>("GET", "/api/v1/auth/me"),
  pipelines: () => call<PipelineSummary[]>("GET", "/api/v1/pipelines"),
  pipeline: (id: number) => call<Pipeline>("GET", `/api/v1/pipelines/${id}`),
  createPipeline: (name: string, graph: Graph) => call<Pipeline>("POST", "/api/v1/pipelines", { name, graph }),
  savePipeline: (id: number, name: string, graph: Graph, version: number) =>
    call<Pipeline>("PUT", `/api/v1/pipelines/${id}`, { name, graph, version }),
  deletePipeline: (id: number) => call<null>("DELETE", `/api/v1/pipelines/${id}`),
  /** every worker's status and metrics in one request */
  pipelineStatus: (id: number) => call<PipelineWorkerStatus[]>("GET", `/api/v1/pipelines/${id}/status?metrics=true`),
  deployPipeline: (id: number) => call<{ worker: string; error?: string }[]>("POST", `/api/v1/pipelines/${id}/deploy`),
  functions: () => call<FunctionVersion[]>("GET", "/api/v1/functions"),
  clusters: () => call<Cluster[]>("GET", "/api/v1/clusters"),
  topics: (clusterId: number) => call<TopicInfo[]>("GET", `/api/v1/clusters/${clusterId}/topics`),
  deploy: (id: number) => call<unknown>("POST", `/api/v1/workers/${id}/deploy`),
  stop: (id: number) => call<unknown>("POST", `/api/v1/workers/${id}/stop`),
  scale: (id: number, instances: number) => call<unknown>("POST", `/api/v1/workers/${id}/scale`, { instances }),
  traces: (id: number) => call<TraceSummary[]>("GET", `/api/v1/workers/${id}/traces?limit=20&lookback=1h`),
  trace: (traceId: string) => call<Trace>("GET", `/api/v1/traces/${traceId}`),
  workers: () => call<WorkerRef[]>("GET", "/api/v1/workers"),
  series: (id: number, metric: SeriesMetric, range = "1h", step = "30s") =>
    call<WorkerSeries>("GET", `/api/v1/workers/${id}/series?${new URLSearchParams({ metric, range, step })}`),
  alerts: (state: "firing" | "resolved" | "all", worker?: string, limit = 100) =>
    call<{ alerts: Alert[] }>("GET", `/api/v1/alerts?${new URLSearchParams({ state, limit: String(limit), ...(worker ? { worker } : {}) })}`)
      .then((r) => r.alerts ?? []),
};

/**
 * prometheusMissing tells the 503 of a server without Prometheus (its
 * message names TRIBUTARY_PROMETHEUS_URL) from a Prometheus that did not
 * answer this once: the first will not change until the server restarts.
 */
export function prometheusMissing(err: unknown): boolean {
  return err instanceof ApiError && err.status === 503 && err.message.includes("TRIBUTARY_PROMETHEUS_URL");
}
