// A line diff of two config versions' JSON, as the versions section shows
// it: pure, so it is tested without a page.

export interface DiffLine {
  op: "same" | "added" | "removed";
  text: string;
}

/**
 * snapshotText writes a config version's snapshot as JSON, keys sorted at
 * every level so that two versions line up, without what differs between
 * any two versions by construction (id, config_version).
 */
export function snapshotText(snapshot: Record<string, unknown>): string {
  const { id: _id, config_version: _v, ...rest } = snapshot;
  return JSON.stringify(sorted(rest), null, 2);
}

function sorted(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sorted);
  if (v && typeof v === "object") {
    return Object.fromEntries(Object.keys(v as object).sort().map((k) => [k, sorted((v as Record<string, unknown>)[k])]));
  }
  return v;
}

/**
 * lineDiff is the shortest edit from a's lines to b's (longest common
 * subsequence), removals before additions where lines were changed. A
 * config is some tens of lines, so the quadratic table is cheap.
 */
export function lineDiff(a: string, b: string): DiffLine[] {
  const x = a.split("\n");
  const y = b.split("\n");
  const n = x.length;
  const m = y.length;
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i][j] = x[i] === y[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (x[i] === y[j]) {
      out.push({ op: "same", text: x[i] });
      i++;
      j++;
    } else if (lcs[i + 1][j] >= lcs[i][j + 1]) {
      out.push({ op: "removed", text: x[i++] });
    } else {
      out.push({ op: "added", text: y[j++] });
    }
  }
  while (i < n) out.push({ op: "removed", text: x[i++] });
  while (j < m) out.push({ op: "added", text: y[j++] });
  return out;
}
