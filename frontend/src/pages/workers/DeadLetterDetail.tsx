import type { DeadLetter } from "../../api/types";

/** DeadLetterDetail is one dead letter in full: why it failed, where it came from, its value and its own headers. */
export function DeadLetterDetail({ letter: l }: { letter: DeadLetter }) {
  const rows: [string, string][] = [
    ["partition / offset", `${l.partition} / ${l.offset}`],
    ["time", l.timestamp],
    ["class", l.class ?? "–"],
    ["error", l.error ?? "–"],
    ["source", l.source ? `${l.source.topic} [${l.source.partition}] @ ${l.source.offset}` : "none (an expired join)"],
    ["join id", l.join_id ?? "–"],
    ["join topics", l.join_topics?.join(", ") ?? "–"],
    ["redriven before", String(l.redrive_count)],
    ["key", l.key || "(none)"],
  ];
  if (l.redriven) rows.push(["redriven", `to ${l.redriven.topic} [${l.redriven.partition}] @ ${l.redriven.offset} by ${l.redriven.by} at ${l.redriven.at}`]);
  return (
    <div data-testid="dead-letter-detail">
      <table className="list compact">
        <tbody>{rows.map(([k, v]) => <tr key={k}><th>{k}</th><td style={{ wordBreak: "break-all" }}>{v}</td></tr>)}</tbody>
      </table>
      <div className="muted">value{l.encoding === "base64" ? " (not UTF-8: base64)" : ""}</div>
      <pre className="value" data-testid="dead-letter-value">{l.value || "(empty)"}</pre>
      <div className="muted">headers of the message ({l.headers.length})</div>
      {l.headers.length === 0 ? <div className="status-line">none</div> : (
        <table className="list compact" data-testid="dead-letter-headers">
          <tbody>{l.headers.map((h, i) => <tr key={i}><th>{h.key}</th><td style={{ wordBreak: "break-all" }}>{h.value}</td></tr>)}</tbody>
        </table>
      )}
    </div>
  );
}
