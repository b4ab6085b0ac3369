import { useState } from "react";
import { api, ApiError } from "../../api/client";
import type { ResetRequest, ResetResult, ResetTarget, Worker, WorkerMetrics } from "../../api/types";
import { ConfirmDialog } from "./ConfirmDialog";
import { planSentence, resetPlan, type ResetPlan } from "./resetPlan";

interface Props {
  worker: Worker;
  metrics: WorkerMetrics | null;
  readOnly: boolean;
  reset: (message: string) => void;
}

type Where = "earliest" | "latest" | "time";

/**
 * ResetOffsetsSection moves the worker's consumer group to the start or
 * end of its inputs, or to a time. It asks the API for a dry run first and
 * says, partition by partition, what will be processed again or skipped.
 */
export function ResetOffsetsSection({ worker: w, metrics, readOnly, reset }: Props) {
  const [where, setWhere] = useState<Where>("earliest");
  const [time, setTime] = useState("");
  const [stop, setStop] = useState(w.desired_state === "running");
  const [clear, setClear] = useState(false);
  const [reason, setReason] = useState("");
  const [plan, setPlan] = useState<ResetPlan | null>(null);
  const [error, setError] = useState("");
  const [result, setResult] = useState<ResetResult | null>(null);
  const [busy, setBusy] = useState(false);

  const target = (): ResetTarget | null => {
    if (where !== "time") return where;
    const t = Date.parse(time);
    return Number.isFinite(t) ? { timestamp: new Date(t).toISOString() } : null;
  };
  const request = (): ResetRequest => ({ to: target()!, stop, clear_tombstones: clear, reason: reason || undefined });

  async function preview() {
    setBusy(true);
    setError("");
    setResult(null);
    try {
      const dry = await api.resetOffsets(w.id, { ...request(), dry_run: true });
      setPlan(resetPlan(dry.from, dry.to, metrics));
    } catch (e) {
      setError((e as ApiError).message);
    } finally {
      setBusy(false);
    }
  }

  async function run() {
    setBusy(true);
    try {
      const r = await api.resetOffsets(w.id, request());
      setResult(r);
      reset(`Offsets reset${r.stopped ? `; the worker was stopped${r.redeployed ? " and deployed again" : ""}` : ""}.`);
    } catch (e) {
      setError((e as ApiError).message);
    } finally {
      setBusy(false);
      setPlan(null);
    }
  }

  const label = where === "time" ? `the first record at or after ${time.replace("T", " ")}` : `the ${where} offsets`;
  return (
    <div className="card" data-testid="reset-offsets">
      <h3>Reset offsets</h3>
      <div className="inline">
        {(["earliest", "latest", "time"] as Where[]).map((x) => (
          <label key={x}>
            <input type="radio" name="reset-to" checked={where === x} aria-label={`reset to ${x}`} onChange={() => setWhere(x)} />
            {x === "time" ? "a time" : x}
          </label>
        ))}
      </div>
      {where === "time" && <input type="datetime-local" step={1} value={time} aria-label="reset time" onChange={(e) => setTime(e.target.value)} />}
      <div className="inline">
        <label><input type="checkbox" checked={stop} onChange={(e) => setStop(e.target.checked)} /> stop the worker for the reset and deploy it again</label>
        <label title="Completed joins keep a tombstone that drops their fragments; clearing them lets replayed ids be emitted again.">
          <input type="checkbox" checked={clear} onChange={(e) => setClear(e.target.checked)} /> clear tombstones
        </label>
      </div>
      <label>reason (for the event log)</label>
      <input value={reason} aria-label="reset reason" onChange={(e) => setReason(e.target.value)} />
      <div className="actions">
        <button disabled={readOnly || busy || target() === null} onClick={preview}>Reset offsets…</button>
      </div>
      {error && <div className="error">{error}</div>}
      {result && (
        <div className="status-line" data-testid="reset-result">
          Committed {result.to?.map((o) => `${o.topic}[${o.partition}]=${o.offset}`).join(", ")}
          {result.tombstones_cleared !== null && ` · ${result.tombstones_cleared} tombstones cleared`}
        </div>
      )}
      {plan && (
        <ConfirmDialog title={`Reset ${w.name} to ${label}?`} confirm="Reset offsets" busy={busy} onCancel={() => setPlan(null)} onConfirm={run}>
          <p data-testid="reset-plan">{planSentence(plan)}</p>
          <table className="list compact">
            <thead><tr><th>Partition</th><th className="num">Committed</th><th className="num">New</th><th className="num">End</th><th className="num">Again</th><th className="num">Skipped</th></tr></thead>
            <tbody>
              {plan.partitions.map((p) => (
                <tr key={`${p.topic}/${p.partition}`}>
                  <td>{p.topic} [{p.partition}]</td><td className="num">{p.committed ?? "none"}</td><td className="num">{p.target}</td>
                  <td className="num">{p.end ?? "?"}</td><td className="num">{p.again}</td><td className="num">{p.skipped}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <p className="muted">
            {stop ? "The worker is stopped while its group is moved, then deployed again." : "The worker's group must have no members: stop it first, or tick the stop box."}
            {clear ? " Its tombstones are cleared, so replayed joins are emitted again (downstream sees duplicates)." : " Joins completed within the tombstone TTL are not emitted a second time."}
          </p>
        </ConfirmDialog>
      )}
    </div>
  );
}
