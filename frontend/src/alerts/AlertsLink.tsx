import { FIRING_LIMIT, useFiring } from "./store";

/** AlertsLink is the top bar's link to the Alerts page, with the count of firing alerts when there are any. */
export function AlertsLink() {
  const n = useFiring((s) => s.alerts.length);
  const label = n >= FIRING_LIMIT ? `${FIRING_LIMIT}+` : String(n);
  return (
    <a href="#/alerts">
      Alerts{n > 0 && <span className="badge" data-testid="alerts-badge" title={`${label} firing`}>{label}</span>}
    </a>
  );
}
