// What the message browser makes of a record: its value decoded, its
// trace, its headers sorted for reading. Pure, so it is unit-tested.
import type { Data, Message } from "../../api/clusters";

export type Decoded =
  | { kind: "json"; value: unknown }
  | { kind: "text"; text: string }
  | { kind: "binary"; base64: string };

/**
 * decode reads a value the way a person wants to see it: JSON when it is
 * a whole JSON object or array, otherwise text, or base64 for bytes that
 * are not UTF-8. A truncated value is never parsed (it would not be JSON).
 */
export function decode(d: Data): Decoded {
  if (d.encoding === "base64") return { kind: "binary", base64: d.text };
  const t = d.text.trim();
  if (!d.truncated && (t.startsWith("{") || t.startsWith("["))) {
    try {
      return { kind: "json", value: JSON.parse(t) };
    } catch {
      // not JSON after all: shown as text
    }
  }
  return { kind: "text", text: d.text };
}

/** dataText is a key or header value as one line: text, or base64 marked as such. */
export function dataText(d: Data | null): string {
  if (d === null) return "";
  return d.encoding === "base64" ? `base64:${d.text}` : d.text;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/**
 * traceOf is the trace id of a record's W3C traceparent header (version
 * 00, trace and span ids not all zeros), or null when it has none.
 */
export function traceOf(m: Pick<Message, "headers">): string | null {
  const h = m.headers.find((x) => x.key.toLowerCase() === "traceparent");
  if (!h || h.value.encoding !== "utf8") return null;
  const p = TRACEPARENT.exec(h.value.text.trim().toLowerCase());
  if (!p || p[1] === "ff" || /^0+$/.test(p[2]) || /^0+$/.test(p[3])) return null;
  return p[2];
}

/** sortedHeaders puts traceparent and the runtime's tributary.* headers first, each group in the record's order. */
export function sortedHeaders(m: Pick<Message, "headers">): Message["headers"] {
  const rank = (k: string) => (k === "traceparent" ? 0 : k.startsWith("tributary.") ? 1 : 2);
  return m.headers.map((h, i) => ({ h, i })).sort((a, b) => rank(a.h.key) - rank(b.h.key) || a.i - b.i).map((x) => x.h);
}

/** localInputToISO turns an <input type="datetime-local"> value (local time) into RFC 3339 UTC; "" when it is not one. */
export function localInputToISO(v: string): string {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(v)) return "";
  const t = new Date(v);
  return Number.isNaN(t.getTime()) ? "" : t.toISOString();
}

/** isoToLocalInput is the reverse, to the minute or second, for the input's value. */
export function isoToLocalInput(iso: string): string {
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return "";
  const p = (n: number) => String(n).padStart(2, "0");
  return `${t.getFullYear()}-${p(t.getMonth() + 1)}-${p(t.getDate())}T${p(t.getHours())}:${p(t.getMinutes())}:${p(t.getSeconds())}`;
}

/** size is a byte count for people: 512 B, 3.2 KiB, 1.0 MiB. */
export function size(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
