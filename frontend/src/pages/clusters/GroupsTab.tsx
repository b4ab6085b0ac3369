import { useMemo, useRef, useState } from "react";
import { ApiError } from "../../api/client";
import { clustersApi, type ConsumerGroup } from "../../api/clusters";
import { filterNames, type NameFilter } from "../../api/testnames";
import { usePoll } from "../../usePoll";
import { NameFilterBar } from "./NameFilterBar";

/** How often the groups are read again while the page is visible. */
export const GROUPS_EVERY_MS = 5000;

/** A cluster's consumer groups: state, members with their partitions, lag per partition; one request every 5 s. */
export function GroupsTab({ clusterId }: { clusterId: number }) {
  const [groups, setGroups] = useState<ConsumerGroup[] | null>(null);
  const [error, setError] = useState("");
  const [at, setAt] = useState<Date | null>(null);
  const [filter, setFilter] = useState<NameFilter>({ showTest: false, text: "" });
  const inFlight = useRef(false);

  usePoll(() => {
    if (inFlight.current) return; // a slow cluster: never two requests at once
    inFlight.current = true;
    clustersApi.groups(clusterId)
      .then((g) => { setGroups(g); setError(""); setAt(new Date()); })
      .catch((e: ApiError) => setError(e.message))
      .finally(() => { inFlight.current = false; });
  }, GROUPS_EVERY_MS, String(clusterId));

  const { shown, hidden } = useMemo(() => filterNames(groups ?? [], (g) => g.id, filter), [groups, filter]);
  return (
    <div data-testid="groups-tab">
      <NameFilterBar filter={filter} onChange={setFilter} hidden={hidden} what="groups" />
      <div className="status-line muted" data-testid="groups-updated">
        {at ? `Updated ${at.toLocaleTimeString()}; refreshed every ${GROUPS_EVERY_MS / 1000} s while this page is shown.` : "Reading the groups…"}
      </div>
      {error && <div className="error" role="alert">{error}{groups && " (showing the last answer)"}</div>}
      {groups && shown.length === 0 && <p className="status-line">No consumer group{groups.length > 0 ? " matches" : " on this cluster"}.</p>}
      {shown.map((g) => <GroupCard key={g.id} group={g} />)}
    </div>
  );
}

function stateClass(s: string): string {
  if (s === "Stable") return "ok";
  if (s === "Empty" || s === "Dead" || s === "") return "idle";
  return "warn";
}

function GroupCard({ group: g }: { group: ConsumerGroup }) {
  return (
    <section className="group-card" data-testid={`group-${g.id}`}>
      <header>
        <strong className="mono">{g.id}</strong>
        <span className={`group-state ${stateClass(g.state)}`} data-testid="group-state">{g.state || "unknown"}</span>
        <span>{g.members} member{g.members === 1 ? "" : "s"}</span>
        <span>lag <strong data-testid="group-lag">{g.lag.toLocaleString()}</strong></span>
      </header>
      <div className="group-body">
        <div>
          <h4>Members</h4>
          {g.consumers.length === 0 ? <div className="muted">none: nobody consumes now</div> : (
            <table className="list compact" data-testid="members">
              <thead><tr><th>Client id</th><th>Host</th><th>Assigned partitions</th></tr></thead>
              <tbody>
                {g.consumers.map((m) => (
                  <tr key={m.id} title={m.id}>
                    <td className="mono">{m.client_id}</td>
                    <td className="mono">{m.host}</td>
                    <td>{m.assignments.length === 0 ? <span className="muted">none</span> : m.assignments.map((a) => (
                      <div key={a.topic}><span className="mono">{a.topic}</span>: {a.partitions.join(", ")}</div>
                    ))}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
        <div>
          <h4>Lag per partition</h4>
          {g.topics.length === 0 ? <div className="muted">no committed offsets</div> : (
            <table className="list compact" data-testid="lag">
              <thead><tr><th>Topic</th><th>Partition</th><th>Committed</th><th>End</th><th>Lag</th></tr></thead>
              <tbody>
                {g.topics.flatMap((t) => {
                  const parts = t.by_partition ?? [];
                  const span = parts.length + (parts.length !== 1 ? 1 : 0);
                  const rows = parts.map((p, i) => (
                    <tr key={`${t.topic}/${p.partition}`} data-testid={`lag-${t.topic}-${p.partition}`}>
                      {i === 0 && <td className="mono topic-cell" rowSpan={span}>{t.topic}</td>}
                      <td>{p.partition}</td>
                      <td>{p.committed < 0 ? <span className="muted" title="nothing committed: the group would start from the beginning">–</span> : p.committed.toLocaleString()}</td>
                      <td>{p.end.toLocaleString()}</td>
                      <td className={p.lag > 0 ? "lagging" : undefined}>{p.lag.toLocaleString()}</td>
                    </tr>
                  ));
                  if (parts.length !== 1) {
                    rows.push(
                      <tr key={`${t.topic}/all`} className="sum">
                        {parts.length === 0 && <td className="mono topic-cell">{t.topic}</td>}<td>all {t.partitions}</td>
                        <td>{t.committed.toLocaleString()}</td><td>{t.end.toLocaleString()}</td><td>{t.lag.toLocaleString()}</td>
                      </tr>,
                    );
                  }
                  return rows;
                })}
              </tbody>
            </table>
          )}
        </div>
      </div>
    </section>
  );
}
