import { useCallback, useEffect, useMemo, useState } from "react";
import { api, ApiError } from "../../api/client";
import type { Cursor, DeadLetter, DeadLetterPage, RedriveRequest, RedriveResult, Worker } from "../../api/types";
import { ConfirmDialog } from "./ConfirmDialog";
import { DeadLetterDetail } from "./DeadLetterDetail";

const PAGE = 50;
const keyOf = (l: { partition: number; offset: number }) => `${l.partition}/${l.offset}`;

interface Props {
  worker: Worker;
  readOnly: boolean;
  redriven: (message: string) => void;
}

/**
 * DeadLettersSection browses the worker's dead-letter topic a page at a
 * time, shows one letter in full, and redrives the selected letters, or
 * every letter of one error class, back to the topics they came from.
 */
export function DeadLettersSection({ worker: w, readOnly, redriven }: Props) {
  const [page, setPage] = useState<DeadLetterPage | null>(null);
  const [cursor, setCursor] = useState<Cursor | null>(null);
  const [error, setError] = useState("");
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [open, setOpen] = useState<DeadLetter | null>(null);
  const [ask, setAsk] = useState<{ req: RedriveRequest; what: string } | null>(null);
  const [result, setResult] = useState<RedriveResult | null>(null);
  const [busy, setBusy] = useState(false);
  const [klass, setKlass] = useState("");

  const load = useCallback(() => {
    api.deadLetters(w.id, cursor, PAGE).then((p) => { setPage(p); setError(""); }).catch((e: ApiError) => setError(e.message));
  }, [w.id, cursor]);
  useEffect(load, [load]);

  const letters = page?.letters ?? [];
  const classes = useMemo(() => [...new Set(letters.map((l) => l.class).filter((c): c is string => !!c))].sort(), [letters]);
  const kept = page?.partitions.reduce((n, p) => n + (p.end - p.start), 0) ?? 0;
  const toggle = (l: DeadLetter) => setSelected((s) => {
    const n = new Set(s);
    if (n.has(keyOf(l))) n.delete(keyOf(l));
    else n.add(keyOf(l));
    return n;
  });

  async function redrive(req: RedriveRequest) {
    setBusy(true);
    try {
      const r = await api.redrive(w.id, req);
      setResult(r);
      setSelected(new Set());
      redriven(`Redrive: ${r.redriven} sent, ${r.already_redriven} already sent, ${r.refused} refused, ${r.failed} failed.`);
      load();
    } catch (e) {
      setError((e as ApiError).message);
    } finally {
      setBusy(false);
      setAsk(null);
    }
  }

  const selection = letters.filter((l) => selected.has(keyOf(l)));
  return (
    <div className="card" data-testid="dead-letters">
      <h3>Dead letters</h3>
      <div className="muted">topic {page?.topic ?? "…"} · {kept} record{kept === 1 ? "" : "s"} kept</div>
      {error && <div className="error">{error}</div>}
      {page && letters.length === 0 && <div className="status-line">{cursor ? "Nothing after this point yet." : "Nothing was dead-lettered."}</div>}
      {letters.length > 0 && (
        <table className="list compact" data-testid="dead-letter-table">
          <thead><tr><th /><th>Partition / offset</th><th>Time</th><th>Class</th><th>Error</th><th>Source</th><th>Redriven</th></tr></thead>
          <tbody>
            {letters.map((l) => (
              <tr key={keyOf(l)} className={open && keyOf(open) === keyOf(l) ? "selected" : undefined} data-testid={`dead-letter-${keyOf(l)}`}
                onClick={() => setOpen(l)} style={{ cursor: "pointer" }}>
                <td onClick={(e) => e.stopPropagation()}>
                  <input type="checkbox" aria-label={`select dead letter ${keyOf(l)}`} checked={selected.has(keyOf(l))} onChange={() => toggle(l)} />
                </td>
                <td>{l.partition} / {l.offset}</td>
                <td title={l.timestamp}>{new Date(l.timestamp).toLocaleTimeString()}</td>
                <td>{l.class ?? "–"}</td>
                <td className="ellipsis" title={l.error}>{l.error ?? "–"}</td>
                <td>{l.source ? `${l.source.topic} [${l.source.partition}]` : "expired join"}</td>
                <td>{l.redriven ? `to ${l.redriven.topic}` : l.redrive_count > 0 ? `${l.redrive_count}× before` : "–"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div className="actions">
        <button disabled={!cursor} onClick={() => setCursor(null)}>First page</button>
        <button disabled={!page?.next} onClick={() => setCursor(page!.next ?? null)}>Next page</button>
        <button onClick={load}>Refresh</button>
      </div>
      <div className="actions">
        <button className="primary" disabled={readOnly || busy || selection.length === 0}
          onClick={() => setAsk({ req: { offsets: selection.map(({ partition, offset }) => ({ partition, offset })) },
            what: `the ${selection.length} selected dead letter${selection.length === 1 ? "" : "s"}` })}>
          Redrive selected ({selection.length})
        </button>
        <select aria-label="dead-letter class" value={klass} onChange={(e) => setKlass(e.target.value)} style={{ width: "auto" }}>
          <option value="">class…</option>
          {classes.map((c) => <option key={c}>{c}</option>)}
        </select>
        <button disabled={readOnly || busy || !klass}
          onClick={() => setAsk({ req: { class: klass }, what: `every dead letter of class "${klass}" in the topic` })}>
          Redrive class
        </button>
      </div>
      {result && (
        <div className="status-line" data-testid="redrive-result">
          {result.redriven} redriven, {result.already_redriven} already redriven, {result.refused} refused, {result.failed} failed
          {result.outcomes.filter((o) => o.reason).slice(0, 3).map((o) => <div key={keyOf(o)} className="error">{keyOf(o)}: {o.reason}</div>)}
        </div>
      )}
      {open && <DeadLetterDetail letter={open} />}
      {ask && (
        <ConfirmDialog title="Redrive dead letters?" confirm="Redrive" busy={busy} onCancel={() => setAsk(null)} onConfirm={() => redrive(ask.req)}>
          <p>Send {ask.what} back to the topic and partition each came from ({w.input_topics.join(", ")}), where {w.name} processes it again.
            A letter already redriven is not sent twice, and one redriven 3 times is refused.</p>
        </ConfirmDialog>
      )}
    </div>
  );
}
