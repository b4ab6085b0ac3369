// Every call to the API goes through here: the token, JSON, and errors
// turned into ApiError with the field the server named.
import type {
  Alert, AllocationLogs, Cluster, ConfigVersion, Cursor, DeadLetterPage, FunctionVersion, Graph, LoginResponse, Pipeline,
  PipelineSummary, PipelineWorkerStatus, RedriveRequest, RedriveResult, ResetRequest, ResetResult, Role, SeriesMetric, TopicInfo,
  Trace, TraceSummary, User, Worker, WorkerEvent, WorkerInput, WorkerMetrics, WorkerRef, WorkerSeries, WorkersOverview, WorkerStatus,
} from "./types";

/** The localStorage key of the logged-in user's access token (also read by the docs page). */
export const TOKEN_KEY = "tributary.token";

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

/** call sends one request to the API: the session's token, JSON both ways, errors as ApiError. */
export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
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
  users: () => call<User[]>("GET", "/api/v1/users"),
  createUser: (email: string, password: string, role: Role) => call<User>("POST", "/api/v1/auth/register", { email, password, role }),
  updateUser: (id: number, change: { role?: Role; disabled?: boolean }) => call<User>("PATCH", `/api/v1/users/${id}`, change),
  setUserPassword: (id: number, password: string) => call<null>("PUT", `/api/v1/users/${id}/password`, { password }),
  deleteUser: (id: number) => call<null>("DELETE", `/api/v1/users/${id}`),
  pipelines: () => call<PipelineSummary[]>("GET", "/api/v1/pipelines"),
  pipeline: (id: number) => call<Pipeline>("GET", `/api/v1/pipelines/${id}`),
  createPipeline: (name: string, graph: Graph) => call<Pipeline>("POST", "/api/v1/pipelines", { name, graph }),
  savePipeline: (id: number, name: string, graph: Graph, version: number) =>
    call<Pipeline>("PUT", `/api/v1/pipelines/${id}`, { name, graph, version }),
  deletePipeline: (id: number) => call<null>("DELETE", `/api/v1/pipelines/${id}`),
  status: (id: number) => call<WorkerStatus>("GET", `/api/v1/workers/${id}/status`),
  metrics: (id: number) => call<WorkerMetrics>("GET", `/api/v1/workers/${id}/metrics`),
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
  workersOverview: () => call<WorkersOverview>("GET", "/api/v1/workers/overview"),
  worker: (id: number) => call<Worker>("GET", `/api/v1/workers/${id}`),
  putWorker: (id: number, body: WorkerInput) => call<Worker>("PUT", `/api/v1/workers/${id}`, body),
  deleteWorker: (id: number) => call<null>("DELETE", `/api/v1/workers/${id}`),
  versions: (id: number) => call<ConfigVersion[]>("GET", `/api/v1/workers/${id}/versions`),
  rollback: (id: number, version: number) => call<Worker>("POST", `/api/v1/workers/${id}/rollback`, { version }),
  logs: (id: number, alloc: string, stream: "stdout" | "stderr", tail = 16384) =>
    call<AllocationLogs>("GET", `/api/v1/workers/${id}/allocations/${alloc}/logs?${new URLSearchParams({ stream, tail: String(tail) })}`),
  deadLetters: (id: number, from: Cursor | null, limit = 50) =>
    call<DeadLetterPage>("GET", `/api/v1/workers/${id}/dead-letters?${new URLSearchParams({
      limit: String(limit), ...(from ? { partition: String(from.partition), offset: String(from.offset) } : {}) })}`),
  redrive: (id: number, req: RedriveRequest) => call<RedriveResult>("POST", `/api/v1/workers/${id}/dead-letters/redrive`, req),
  resetOffsets: (id: number, req: ResetRequest) => call<ResetResult>("POST", `/api/v1/workers/${id}/offsets`, req),
  events: (workerId: number, limit = 50) =>
    call<WorkerEvent[]>("GET", `/api/v1/events?${new URLSearchParams({ worker_id: String(workerId), limit: String(limit) })}`),
  deleteFunction: (name: string, version: string) =>
    call<null>("DELETE", `/api/v1/functions/${encodeURIComponent(name)}/${encodeURIComponent(version)}`),
};

/** How far an upload is: bytes sent of the request's total. */
export interface UploadProgress {
  loaded: number;
  total: number;
}

/**
 * uploadFunction posts a function binary as POST /functions takes it
 * (multipart: name, version, file) with XMLHttpRequest, whose upload
 * events fetch does not have, reporting progress as the bytes go. A
 * refusal rejects with the API's ApiError, naming its field.
 */
export function uploadFunction(name: string, version: string, file: Blob,
  onProgress: (p: UploadProgress) => void): { done: Promise<FunctionVersion>; abort: () => void } {
  const xhr = new XMLHttpRequest();
  const done = new Promise<FunctionVersion>((resolve, reject) => {
    xhr.open("POST", "/api/v1/functions");
    const token = session.token();
    if (token) xhr.setRequestHeader("Authorization", `Bearer ${token}`);
    xhr.upload.onprogress = (e) => onProgress({ loaded: e.loaded, total: e.lengthComputable ? e.total : file.size });
    xhr.onload = () => {
      const json = parseJSON(xhr.responseText);
      if (xhr.status === 201) return resolve(json as FunctionVersion);
      if (xhr.status === 401) onUnauthorized();
      reject(toApiError(xhr.status, json));
    };
    xhr.onerror = () => reject(new ApiError(0, "network", "the upload did not reach the server"));
    xhr.onabort = () => reject(new ApiError(0, "aborted", "upload cancelled"));
    const form = new FormData();
    form.set("name", name);
    form.set("version", version);
    form.set("file", file, "function"); // after name and version: the server refuses a taken version before the bytes
    xhr.send(form);
  });
  return { done, abort: () => xhr.abort() };
}

function parseJSON(text: string): unknown {
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}

/**
 * prometheusMissing tells the 503 of a server without Prometheus (its
 * message names TRIBUTARY_PROMETHEUS_URL) from a Prometheus that did not
 * answer this once: the first will not change until the server restarts.
 */
export function prometheusMissing(err: unknown): boolean {
  return err instanceof ApiError && err.status === 503 && err.message.includes("TRIBUTARY_PROMETHEUS_URL");
}
