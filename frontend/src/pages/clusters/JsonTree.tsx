import { useState } from "react";

/** A JSON value, pretty-printed, with objects and arrays that fold; open to depth openDepth. */
export function JsonTree({ value, openDepth = 2 }: { value: unknown; openDepth?: number }) {
  return <div className="json-tree"><Node value={value} depth={0} openDepth={openDepth} last /></div>;
}

function Scalar({ value }: { value: unknown }) {
  if (value === null) return <span className="j-null">null</span>;
  switch (typeof value) {
    case "string": return <span className="j-str">{JSON.stringify(value)}</span>;
    case "number": return <span className="j-num">{String(value)}</span>;
    case "boolean": return <span className="j-bool">{String(value)}</span>;
    default: return <span>{JSON.stringify(value)}</span>;
  }
}

function Node({ name, value, depth, openDepth, last }: { name?: string; value: unknown; depth: number; openDepth: number; last: boolean }) {
  const [open, setOpen] = useState(depth < openDepth);
  const label = name !== undefined && <><span className="j-key">{JSON.stringify(name)}</span>: </>;
  const comma = last ? "" : ",";
  if (value === null || typeof value !== "object") {
    return <div className="j-line">{label}<Scalar value={value} />{comma}</div>;
  }
  const isArray = Array.isArray(value);
  const entries: [string, unknown][] = isArray ? (value as unknown[]).map((v, i) => [String(i), v]) : Object.entries(value as object);
  const [l, r] = isArray ? ["[", "]"] : ["{", "}"];
  if (entries.length === 0) return <div className="j-line">{label}{l}{r}{comma}</div>;
  if (!open) {
    return (
      <div className="j-line">
        <button type="button" className="j-toggle" aria-expanded="false" onClick={() => setOpen(true)}>▸</button>
        {label}{l}<span className="muted"> {entries.length} {isArray ? (entries.length === 1 ? "item" : "items") : (entries.length === 1 ? "key" : "keys")} </span>{r}{comma}
      </div>
    );
  }
  return (
    <div>
      <div className="j-line">
        <button type="button" className="j-toggle" aria-expanded="true" onClick={() => setOpen(false)}>▾</button>{label}{l}
      </div>
      <div className="j-children">
        {entries.map(([k, v], i) => (
          <Node key={k} name={isArray ? undefined : k} value={v} depth={depth + 1} openDepth={openDepth} last={i === entries.length - 1} />
        ))}
      </div>
      <div className="j-line">{r}{comma}</div>
    </div>
  );
}
