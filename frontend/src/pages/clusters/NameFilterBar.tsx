import type { NameFilter } from "../../api/testnames";

/** A text filter and the "show test …" toggle; hidden says how many test names are left out. */
export function NameFilterBar({ filter, onChange, hidden, what }: {
  filter: NameFilter;
  onChange: (f: NameFilter) => void;
  hidden: number;
  what: string;
}) {
  return (
    <div className="filter-bar">
      <input type="search" aria-label={`filter ${what}`} placeholder={`filter ${what}`} value={filter.text}
        onChange={(e) => onChange({ ...filter, text: e.target.value })} />
      <label title="names the project's tests give (e2e-…, <prefix>_test…_<hex>, …)">
        <input type="checkbox" aria-label={`show test ${what}`} checked={filter.showTest}
          onChange={(e) => onChange({ ...filter, showTest: e.target.checked })} />
        {" "}show test {what}
      </label>
      {!filter.showTest && hidden > 0 && <span className="muted" data-testid="hidden-count">{hidden} test {what} hidden</span>}
    </div>
  );
}
