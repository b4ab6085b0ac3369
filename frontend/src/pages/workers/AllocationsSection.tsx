import { Fragment, useState } from "react";
import type { WorkerStatus } from "../../api/types";
import { AllocationLogs } from "./AllocationLogs";
import { ago } from "./format";

/** AllocationsSection tables the worker's Nomad allocations, newest first, each with its log tail on demand. */
export function AllocationsSection({ workerId, status }: { workerId: number; status: WorkerStatus | null }) {
  const [open, setOpen] = useState<string | null>(null);
  const now = Date.now();
  const allocs = status?.allocations ?? [];
  return (
    <div className="card" data-testid="allocations">
      <h3>Allocations</h3>
      {!status && <div className="status-line">loading…</div>}
      {status && !status.job && <div className="status-line">No Nomad job: the worker was never deployed, or its job was purged.</div>}
      {status?.job && allocs.length === 0 && <div className="status-line">No allocations yet.</div>}
      {allocs.length > 0 && (
        <table className="list compact">
          <thead>
            <tr><th>Allocation</th><th>Node</th><th>Status</th><th>Task</th><th className="num">Restarts</th><th>Started</th><th>Last event</th><th /></tr>
          </thead>
          <tbody>
            {allocs.map((a) => (
              <Fragment key={a.id}>
                <tr className={open === a.id ? "selected" : undefined} data-testid={`alloc-${a.id}`}>
                  <td title={`${a.id} (${a.name ?? ""}, job version ${a.job_version ?? "?"})`}>{a.id.slice(0, 8)}</td>
                  <td>{a.node || "–"}</td>
                  <td className={`health ${a.healthy === true ? "ok" : a.healthy === false || a.client_status === "failed" ? "bad" : "idle"}`}>
                    {a.client_status}{a.healthy === true ? ", healthy" : a.healthy === false ? ", unhealthy" : ""}
                  </td>
                  <td>{a.task_state || "–"}</td>
                  <td className="num">{a.restarts ?? 0}</td>
                  <td title={a.started_at ?? undefined}>{ago(a.started_at, now)}</td>
                  <td className="ellipsis" title={`${a.last_event ?? ""}${a.last_event_at ? ` (${a.last_event_at})` : ""}`}>
                    {a.last_event || "–"}{a.failed_reason && <div className="error">{a.failed_reason}</div>}
                  </td>
                  <td><button onClick={() => setOpen(open === a.id ? null : a.id)}>{open === a.id ? "Hide logs" : "Logs"}</button></td>
                </tr>
                {open === a.id && (
                  <tr><td colSpan={8}><AllocationLogs workerId={workerId} allocId={a.id} /></td></tr>
                )}
              </Fragment>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
