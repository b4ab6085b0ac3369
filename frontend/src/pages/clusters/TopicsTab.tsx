import { useMemo, useState, type FormEvent } from "react";
import { ApiError } from "../../api/client";
import { clustersApi } from "../../api/clusters";
import { filterNames, type NameFilter } from "../../api/testnames";
import type { TopicInfo } from "../../api/types";
import { NameFilterBar } from "./NameFilterBar";

/** A cluster's topics with each partition's high watermark, and a form to create one. */
export function TopicsTab({ clusterId, topics, error, reload, canEdit }: {
  clusterId: number;
  topics: TopicInfo[] | null;
  error: string;
  reload: () => Promise<unknown>;
  canEdit: boolean;
}) {
  const [filter, setFilter] = useState<NameFilter>({ showTest: false, text: "" });
  const { shown, hidden } = useMemo(() => filterNames(topics ?? [], (t) => t.name, filter), [topics, filter]);
  return (
    <div data-testid="topics-tab">
      {canEdit && <CreateTopic clusterId={clusterId} created={reload} />}
      <NameFilterBar filter={filter} onChange={setFilter} hidden={hidden} what="topics" />
      {error && <div className="error" role="alert">{error}</div>}
      {topics && shown.length === 0 && <p className="status-line">No topic{topics.length > 0 ? " matches" : " yet"}.</p>}
      {shown.length > 0 && (
        <table className="list" data-testid="topics">
          <thead><tr><th>Topic</th><th>Partitions</th><th>Records written</th><th>High watermark per partition</th><th /></tr></thead>
          <tbody>
            {shown.map((t) => {
              const parts = t.partitions ?? [];
              return (
                <tr key={t.name} data-testid={`topic-${t.name}`}>
                  <td className="mono">{t.name}{t.internal && <span className="pill">internal</span>}</td>
                  <td data-testid="partition-count">{t.partition_count}</td>
                  <td>{parts.reduce((n, p) => n + p.high_watermark, 0).toLocaleString()}</td>
                  <td className="watermarks">
                    {parts.slice(0, 32).map((p) => (
                      <span key={p.id} className="wm" title={`partition ${p.id}: next offset ${p.high_watermark}, leader broker ${p.leader}`}>
                        {p.id}: {p.high_watermark.toLocaleString()}
                      </span>
                    ))}
                    {parts.length > 32 && <span className="muted">and {parts.length - 32} more</span>}
                  </td>
                  <td><a href={`#/clusters/${clusterId}/messages/${encodeURIComponent(t.name)}`}>messages</a></td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </div>
  );
}

function CreateTopic({ clusterId, created }: { clusterId: number; created: () => Promise<unknown> }) {
  const [name, setName] = useState("");
  const [partitions, setPartitions] = useState("3");
  const [replication, setReplication] = useState("1");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [note, setNote] = useState("");
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setErrors({});
    setNote("");
    setBusy(true);
    const input = { name: name.trim(), partitions: Number(partitions), replication_factor: Number(replication) };
    try {
      await clustersApi.createTopic(clusterId, input);
      setNote(`Created ${input.name} with ${input.partitions} partition${input.partitions === 1 ? "" : "s"}.`);
      setName("");
      await created();
    } catch (err) {
      const e = err as ApiError;
      setErrors(e.field ? { [e.field]: e.message } : { form: e.message });
    } finally {
      setBusy(false);
    }
  }

  const err = (f: string) => errors[f] && <div className="error" data-testid={`error-${f}`}>{errors[f]}</div>;
  return (
    <form className="create-topic" onSubmit={submit} data-testid="create-topic" noValidate>
      <strong>New topic</strong>
      <label>Name
        <input name="topic-name" value={name} onChange={(e) => setName(e.target.value)} placeholder="orders.v1" />
        {err("name")}
      </label>
      <label>Partitions
        <input name="partitions" type="number" min={1} value={partitions} onChange={(e) => setPartitions(e.target.value)} />
        {err("partitions")}
      </label>
      <label>Replication factor
        <input name="replication_factor" type="number" min={1} value={replication} onChange={(e) => setReplication(e.target.value)} />
        {err("replication_factor")}
      </label>
      <button className="primary" type="submit" disabled={busy}>Create topic</button>
      {err("form")}
      {note && <span className="ok-note" role="status">{note}</span>}
    </form>
  );
}
