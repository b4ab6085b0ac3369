import { useMemo } from "react";
import type { ConfigVersion } from "../../api/types";
import { lineDiff, snapshotText } from "./diff";

/** VersionDiff shows the line diff of two config versions' settings as JSON, the older first. */
export function VersionDiff({ a, b }: { a: ConfigVersion; b: ConfigVersion }) {
  const lines = useMemo(() => lineDiff(snapshotText(a.snapshot), snapshotText(b.snapshot)), [a, b]);
  const changed = lines.filter((l) => l.op !== "same").length;
  return (
    <div data-testid="version-diff">
      <div className="muted">version {a.version} → version {b.version}: {changed === 0 ? "the same settings" : `${changed} changed line${changed === 1 ? "" : "s"}`}</div>
      <div className="diff">
        {lines.map((l, i) => (
          <div key={i} className={l.op}>{l.op === "added" ? "+ " : l.op === "removed" ? "- " : "  "}{l.text}</div>
        ))}
      </div>
    </div>
  );
}
