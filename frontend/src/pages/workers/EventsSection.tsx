import { useEffect, useState } from "react";
import { api, ApiError } from "../../api/client";
import type { WorkerEvent } from "../../api/types";

const brief = (v: unknown) => (v === undefined || v === null ? "" : JSON.stringify(v));

/** EventsSection is the worker's event log, newest first: who deployed, scaled, rolled back or reset what, and why. */
export function EventsSection({ workerId, refresh }: { workerId: number; refresh: number }) {
  const [events, setEvents] = useState<WorkerEvent[] | null>(null);
  const [error, setError] = useState("");
  useEffect(() => {
    api.events(workerId, 50).then((es) => { setEvents(es); setError(""); }).catch((e: ApiError) => setError(e.message));
  }, [workerId, refresh]);
  return (
    <div className="card" data-testid="events">
      <h3>Events</h3>
      {error && <div className="error">{error}</div>}
      {events?.length === 0 && <div className="status-line">Nothing happened to this worker yet.</div>}
      {events && events.length > 0 && (
        <table className="list compact">
          <thead><tr><th>When</th><th>Who</th><th>What</th><th>Why</th><th>From → to</th></tr></thead>
          <tbody>
            {events.map((e) => (
              <tr key={e.id} data-testid={`event-${e.action}`}>
                <td title={e.at}>{new Date(e.at).toLocaleString()}</td>
                <td>{e.actor}</td>
                <td>{e.action}</td>
                <td>{e.reason}</td>
                <td className="ellipsis" title={`${brief(e.from)} → ${brief(e.to)}`}>{brief(e.from)} → {brief(e.to)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
