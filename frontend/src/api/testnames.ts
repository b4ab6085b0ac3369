// Names the project's own tests give to topics, consumer groups, workers
// and pipelines on a shared stack, so that pages can hide what test runs
// left behind. The patterns follow the tests that make them:
//   - the UI's end-to-end tests and infra/demo's e2e: "e2e-…" / "e2e_…";
//   - shared/stacktest Name(t, prefix): "<prefix>_<test name>_<8 hex>",
//     often with '_' turned to '-' and a suffix (".left", "-relay",
//     "-documents.raw"); the test name is Go's t.Name() lowercased, so it
//     begins with "test", "benchmark" or "fuzz";
//   - frontend/e2e/editor.e2e.mjs: "in1-", "in2-", "out-", "w-", "perf-"
//     followed by Date.now() in base 36 (8 characters).

const E2E = /^e2e[-_]/i;
const STACKTEST = /^[a-z0-9]+[_-](?:test|benchmark|fuzz)[a-z0-9_-]*?[_-][0-9a-f]{8}(?:[._-].*)?$/;
const EDITOR_E2E = /^(?:in1|in2|out|w|perf)-([0-9a-z]{8})(?:-.*)?$/;
// Date.now().toString(36) of an editor run: after 2024 and not in the future.
const SINCE = Date.UTC(2024, 0, 1);

function isRunStamp(s: string, now: number): boolean {
  if (!/[0-9]/.test(s)) return false; // a word ("payments"), not a number
  const ms = parseInt(s, 36);
  return ms >= SINCE && ms <= now + 86_400_000;
}

/** isTestName tells whether name looks like one a test run made. */
export function isTestName(name: string, now = Date.now()): boolean {
  if (E2E.test(name) || STACKTEST.test(name)) return true;
  const m = EDITOR_E2E.exec(name);
  return m !== null && isRunStamp(m[1], now);
}

export interface NameFilter {
  /** show the names tests made too */
  showTest: boolean;
  /** a case-insensitive substring; empty: any */
  text: string;
}

/** filterNames keeps the items whose name passes filter, in order; hidden counts the test names the text matches but that were left out. */
export function filterNames<T>(items: T[], name: (t: T) => string, filter: NameFilter, now = Date.now()): { shown: T[]; hidden: number } {
  const text = filter.text.trim().toLowerCase();
  let hidden = 0;
  const shown = items.filter((it) => {
    const n = name(it);
    if (text !== "" && !n.toLowerCase().includes(text)) return false;
    if (!filter.showTest && isTestName(n, now)) {
      hidden++;
      return false;
    }
    return true;
  });
  return { shown, hidden };
}
