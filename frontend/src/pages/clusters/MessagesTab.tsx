import { useCallback, useEffect, useMemo, useState, type FormEvent } from "react";
import { ApiError } from "../../api/client";
import { clustersApi, type BrowseFrom, type Message, type MessagePage } from "../../api/clusters";
import { filterNames, type NameFilter } from "../../api/testnames";
import type { TopicInfo } from "../../api/types";
import { JsonTree } from "./JsonTree";
import { dataText, decode, isoToLocalInput, localInputToISO, size, sortedHeaders, traceOf } from "./messages";
import { NameFilterBar } from "./NameFilterBar";

type Mode = "latest" | "earliest" | "offset" | "timestamp";

const MAX_LIMIT = 500;

/** The message browser: one partition of a topic, from an offset, a time, the start or the latest N. */
export function MessagesTab({ clusterId, topics, topicsError, topic }: {
  clusterId: number;
  topics: TopicInfo[] | null;
  topicsError: string;
  topic: string | null;
}) {
  const [filter, setFilter] = useState<NameFilter>({ showTest: false, text: "" });
  const [partition, setPartition] = useState(0);
  const [mode, setMode] = useState<Mode>("latest");
  const [offset, setOffset] = useState("0");
  const [time, setTime] = useState(() => isoToLocalInput(new Date(Date.now() - 3_600_000).toISOString()));
  const [limit, setLimit] = useState("50");
  const [page, setPage] = useState<MessagePage | null>(null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);

  const { shown, hidden } = useMemo(() => {
    const f = filterNames(topics ?? [], (t) => t.name, filter);
    // The topic in the address stays selectable whatever the filter says.
    const current = topics?.find((t) => t.name === topic);
    if (current && !f.shown.includes(current)) f.shown = [current, ...f.shown];
    return f;
  }, [topics, filter, topic]);
  const info = topics?.find((t) => t.name === topic) ?? null;

  const read = useCallback(async (from: BrowseFrom, p = partition) => {
    if (!topic) return;
    setErrors({});
    const n = Number(limit);
    if (!Number.isInteger(n) || n < 1 || n > MAX_LIMIT) {
      setErrors({ limit: `must be a whole number from 1 to ${MAX_LIMIT}` });
      return;
    }
    setBusy(true);
    try {
      setPage(await clustersApi.messages(clusterId, topic, p, from, n));
    } catch (err) {
      const e = err as ApiError;
      setPage(null);
      setErrors(e.field ? { [e.field]: e.message } : { form: e.status === 404 ? `${e.message}.` : e.message });
    } finally {
      setBusy(false);
    }
  }, [clusterId, topic, partition, limit]);

  // A new topic reads its latest records of partition 0.
  useEffect(() => {
    setPage(null);
    setPartition(0);
    setMode("latest");
    if (topic) read({ from: "latest" }, 0);
  }, [clusterId, topic]); // eslint-disable-line react-hooks/exhaustive-deps

  function fromMode(): BrowseFrom | null {
    switch (mode) {
      case "latest": return { from: "latest" };
      case "earliest": return { from: "earliest" };
      case "offset": {
        if (!/^\d+$/.test(offset.trim())) {
          setErrors({ offset: "must be a whole number of at least 0" });
          return null;
        }
        return { offset: Number(offset) };
      }
      case "timestamp": {
        const iso = localInputToISO(time);
        if (!iso) {
          setErrors({ timestamp: "pick a date and time" });
          return null;
        }
        return { timestamp: iso };
      }
    }
  }
  function submit(e: FormEvent) {
    e.preventDefault();
    const f = fromMode();
    if (f) read(f);
  }
  const err = (f: string) => errors[f] && <div className="error" data-testid={`error-${f}`}>{errors[f]}</div>;
  // The partition read last has a fresher high watermark than the topic list.
  const written = (id: number, hw: number) => {
    const end = page && page.topic === topic && page.partition === id ? page.end : hw;
    return Number.isNaN(end) ? "" : ` (${end.toLocaleString()} written)`;
  };
  const chooseTopic = (name: string) => { window.location.hash = `#/clusters/${clusterId}/messages/${encodeURIComponent(name)}`; };

  return (
    <div data-testid="messages-tab">
      <NameFilterBar filter={filter} onChange={setFilter} hidden={hidden} what="topics" />
      {topicsError && <div className="error" role="alert">{topicsError}</div>}
      <form className="browse-bar" onSubmit={submit} noValidate>
        <label>Topic
          <select aria-label="topic" value={topic ?? ""} onChange={(e) => chooseTopic(e.target.value)}>
            <option value="" disabled>pick a topic ({shown.length})</option>
            {shown.map((t) => <option key={t.name} value={t.name}>{t.name}</option>)}
          </select>
        </label>
        <label>Partition
          <select aria-label="partition" value={partition} disabled={!info}
            onChange={(e) => { const p = Number(e.target.value); setPartition(p); read({ from: "latest" }, p); setMode("latest"); }}>
            {(info?.partitions ?? Array.from({ length: info?.partition_count ?? 1 }, (_, id) => ({ id, high_watermark: NaN }))).map((p) => (
              <option key={p.id} value={p.id}>{p.id}{written(p.id, p.high_watermark)}</option>
            ))}
          </select>
          {err("partition")}
        </label>
        <label>Read
          <select aria-label="read from" value={mode} onChange={(e) => setMode(e.target.value as Mode)}>
            <option value="latest">the latest N</option>
            <option value="earliest">from the oldest kept</option>
            <option value="offset">from an offset</option>
            <option value="timestamp">from a time</option>
          </select>
        </label>
        {mode === "offset" && (
          <label>Offset
            <input name="offset" inputMode="numeric" value={offset} onChange={(e) => setOffset(e.target.value)} size={10} />
            {err("offset")}
          </label>
        )}
        {mode === "timestamp" && (
          <label>Time <span className="muted">(local)</span>
            <input name="timestamp" type="datetime-local" step={1} value={time} onChange={(e) => setTime(e.target.value)} />
            {err("timestamp")}
          </label>
        )}
        <label>{mode === "latest" ? "N" : "At most"}
          <input name="limit" inputMode="numeric" value={limit} onChange={(e) => setLimit(e.target.value)} size={4} />
          {err("limit")}
        </label>
        {err("from")}
        <button className="primary" type="submit" disabled={!topic || busy} data-testid="read">{busy ? "Reading…" : "Read"}</button>
      </form>
      {err("form")}
      {!topic && <p className="status-line">Pick a topic to read its messages.</p>}
      {page && <Results page={page} busy={busy} limit={Number(limit)}
        older={() => read({ offset: Math.max(page.start, page.from - Number(limit)) })}
        newer={() => read({ offset: page.next })} />}
    </div>
  );
}

function Results({ page, busy, limit, older, newer }: { page: MessagePage; busy: boolean; limit: number; older: () => void; newer: () => void }) {
  const [open, setOpen] = useState<Set<number>>(new Set());
  useEffect(() => setOpen(new Set()), [page]);
  const toggle = (o: number) => setOpen((s) => { const n = new Set(s); if (n.has(o)) n.delete(o); else n.add(o); return n; });
  const last = page.messages.length > 0 ? page.messages[page.messages.length - 1].offset : null;
  return (
    <div data-testid="messages">
      <div className="status-line">
        Partition {page.partition} of {page.topic} keeps offsets {page.start.toLocaleString()} to {(page.end - 1).toLocaleString()}
        {page.end === page.start && " (none: it is empty)"}.{" "}
        {page.messages.length > 0
          ? <>Showing {page.messages.length} message{page.messages.length === 1 ? "" : "s"}, offsets {page.messages[0].offset} to {last}.</>
          : <>Nothing from offset {page.from}.</>}
        {" "}
        <button type="button" onClick={older} disabled={busy || page.from <= page.start}>← Older {limit}</button>{" "}
        <button type="button" onClick={newer} disabled={busy}>{page.next >= page.end ? "Check for newer" : "Newer →"}</button>{" "}
        {page.messages.length > 0 && <button type="button" onClick={() => setOpen(open.size ? new Set() : new Set(page.messages.map((m) => m.offset)))}>
          {open.size ? "Collapse all" : "Expand all"}</button>}
      </div>
      {page.messages.length > 0 && (
        <table className="list messages">
          <thead><tr><th>Offset</th><th>Timestamp</th><th>Key</th><th>Value</th><th>Headers</th><th>Trace</th></tr></thead>
          <tbody>
            {page.messages.flatMap((m) => {
              const rows = [<Row key={m.offset} m={m} open={open.has(m.offset)} toggle={() => toggle(m.offset)} />];
              if (open.has(m.offset)) rows.push(<tr key={`${m.offset}-d`} className="detail"><td colSpan={6}><Detail m={m} /></td></tr>);
              return rows;
            })}
          </tbody>
        </table>
      )}
    </div>
  );
}

function TraceLink({ m }: { m: Message }) {
  const id = traceOf(m);
  if (!id) return <span className="muted">–</span>;
  return <a href={`#/traces/${id}`} onClick={(e) => e.stopPropagation()} title={`trace ${id}`} data-testid="trace-link">{id.slice(0, 12)}…</a>;
}

function preview(m: Message): string {
  if (m.value === null) return "(tombstone: no value)";
  const d = decode(m.value);
  const s = d.kind === "json" ? JSON.stringify(d.value) : d.kind === "text" ? d.text : `base64:${d.base64}`;
  return s.length > 160 ? `${s.slice(0, 160)}…` : s;
}

function Row({ m, open, toggle }: { m: Message; open: boolean; toggle: () => void }) {
  const t = new Date(m.timestamp);
  return (
    <tr className={`msg${open ? " open" : ""}`} onClick={toggle} data-testid={`message-${m.offset}`}>
      <td className="mono">{open ? "▾" : "▸"} {m.offset}</td>
      <td title={m.timestamp}>{t.toLocaleString()}</td>
      <td className="mono key">{m.key === null ? <span className="muted">null</span> : dataText(m.key)}</td>
      <td className="mono value">{preview(m)}{m.value?.truncated && <span className="pill">truncated</span>}</td>
      <td>{m.headers.length}</td>
      <td><TraceLink m={m} /></td>
    </tr>
  );
}

function Detail({ m }: { m: Message }) {
  const d = m.value === null ? null : decode(m.value);
  return (
    <div className="msg-detail" data-testid="message-detail">
      <div className="msg-value">
        <h4>Value {m.value && <span className="muted">({size(m.value.size)}{d?.kind === "json" ? ", JSON" : d?.kind === "binary" ? ", not UTF-8: base64" : ""})</span>}</h4>
        {m.value?.truncated && <div className="warn-note">Only the first {size(m.value.text.length)} of {size(m.value.size)} are shown.</div>}
        {d === null && <div className="muted">No value: a tombstone.</div>}
        {d?.kind === "json" && <JsonTree value={d.value} />}
        {d?.kind === "text" && <pre className="text-value">{d.text}</pre>}
        {d?.kind === "binary" && <pre className="text-value">{d.base64}</pre>}
      </div>
      <div className="msg-meta">
        <h4>Key</h4>
        <div className="mono">{m.key === null ? <span className="muted">null</span> : dataText(m.key)}</div>
        <h4>Partition, offset, timestamp</h4>
        <div className="mono">{m.partition} · {m.offset} · {m.timestamp}</div>
        <h4>Headers</h4>
        {m.headers.length === 0 ? <div className="muted">none</div> : (
          <table className="list compact headers" data-testid="headers">
            <tbody>
              {sortedHeaders(m).map((h, i) => (
                <tr key={i}>
                  <td className="mono">{h.key}</td>
                  <td className="mono">{dataText(h.value)}{h.key === "traceparent" && traceOf(m) && <> <TraceLink m={m} /></>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </div>
  );
}
