import { useHistory } from "./context";

/** The one place the editor says its charts need Prometheus; the numbers of the moment stay as they are. */
export function HistoryMissing() {
  const missing = useHistory((s) => s.missing);
  if (!missing) return null;
  return <div className="history-missing" role="status" data-testid="history-missing">History needs Prometheus: set TRIBUTARY_PROMETHEUS_URL</div>;
}
