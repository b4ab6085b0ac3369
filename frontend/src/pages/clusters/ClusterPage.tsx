import { useCallback, useEffect, useState } from "react";
import { ApiError } from "../../api/client";
import { clustersApi, usesCluster, type CheckResult, type ClusterDetail, type WorkerOfCluster } from "../../api/clusters";
import type { TopicInfo } from "../../api/types";
import { WorkerList } from "./ClustersPage";
import { GroupsTab } from "./GroupsTab";
import { MessagesTab } from "./MessagesTab";
import { TopicsTab } from "./TopicsTab";

export type ClusterTab = "topics" | "groups" | "messages";

/** #/clusters/<id>[/groups|/messages[/<topic>]]: one cluster, its connectivity, topics, groups and messages. */
export function ClusterPage({ id, tab, topic, canEdit }: { id: number; tab: ClusterTab; topic: string | null; canEdit: boolean }) {
  const [cluster, setCluster] = useState<ClusterDetail | null>(null);
  const [workers, setWorkers] = useState<WorkerOfCluster[]>([]);
  const [error, setError] = useState("");
  const [check, setCheck] = useState<CheckResult | null>(null);
  const [checking, setChecking] = useState(false);
  const [topics, setTopics] = useState<TopicInfo[] | null>(null);
  const [topicsError, setTopicsError] = useState("");

  useEffect(() => {
    clustersApi.get(id).then(setCluster).catch((e: ApiError) => setError(e.status === 404 ? `No cluster with id ${id}.` : e.message));
    clustersApi.workers().then(setWorkers).catch(() => setWorkers([]));
  }, [id]);
  const loadTopics = useCallback(() => {
    setTopicsError("");
    return clustersApi.topics(id).then(setTopics).catch((e: ApiError) => setTopicsError(e.message));
  }, [id]);
  useEffect(() => { loadTopics(); }, [loadTopics, tab]); // each tab shown reads them again: they change under us

  async function runCheck() {
    setChecking(true);
    setCheck(null);
    try {
      setCheck(await clustersApi.check(id));
    } catch (e) {
      setCheck({ ok: false, brokers: [], controller: null, latency_ms: 0, error: (e as ApiError).message });
    } finally {
      setChecking(false);
    }
  }

  const using = cluster ? workers.filter((w) => usesCluster(w, cluster)) : [];
  async function remove() {
    if (!cluster) return;
    const warn = using.length > 0 ? `\n\n${using.length} worker(s) use it: ${using.map((w) => w.name).join(", ")}.` : "";
    if (!window.confirm(`Forget cluster ${cluster.name}? Its topics and data stay on the brokers.${warn}`)) return;
    try {
      await clustersApi.remove(id);
      window.location.hash = "#/clusters";
    } catch (e) {
      setError((e as ApiError).message);
    }
  }

  if (error && !cluster) return <div className="page"><p><a href="#/clusters">← Clusters</a></p><div className="error" role="alert">{error}</div></div>;
  if (!cluster) return null;
  const tabLink = (t: ClusterTab, label: string) => (
    <a href={`#/clusters/${id}${t === "topics" ? "" : `/${t}`}`} className={tab === t ? "tab active" : "tab"} data-testid={`tab-${t}`}>{label}</a>
  );
  return (
    <div className="page" data-testid="cluster-page">
      <p><a href="#/clusters">← Clusters</a></p>
      <div className="cluster-head">
        <div>
          <h2 data-testid="cluster-name">{cluster.name}</h2>
          <div className="mono">{cluster.bootstrap_servers.join(", ")}</div>
          <div className="status-line">Workers using it: <WorkerList workers={using} /></div>
        </div>
        <div className="actions">
          <button onClick={runCheck} disabled={checking} data-testid="check">{checking ? "Checking…" : "Check connection"}</button>
          <button disabled={!canEdit} onClick={() => (window.location.hash = `#/clusters/${id}/edit`)}>Edit</button>
          <button disabled={!canEdit} onClick={remove} data-testid="delete-cluster">Delete</button>
        </div>
      </div>
      {error && <div className="error" role="alert">{error}</div>}
      {check && <CheckBox check={check} />}
      <nav className="tabs">
        {tabLink("topics", `Topics${topics ? ` (${topics.length})` : ""}`)}
        {tabLink("groups", "Consumer groups")}
        {tabLink("messages", "Messages")}
      </nav>
      {tab === "topics" && <TopicsTab clusterId={id} topics={topics} error={topicsError} reload={loadTopics} canEdit={canEdit} />}
      {tab === "groups" && <GroupsTab clusterId={id} />}
      {tab === "messages" && <MessagesTab clusterId={id} topics={topics} topicsError={topicsError} topic={topic} />}
    </div>
  );
}

/** The broker's answer to a connectivity check. */
function CheckBox({ check }: { check: CheckResult }) {
  return (
    <div className={`check ${check.ok ? "ok" : "bad"}`} data-testid="check-result" role="status">
      <strong>{check.ok ? "Connected" : "Not reachable"}</strong> in {check.latency_ms} ms
      {check.error && <div className="error">{check.error}</div>}
      {check.brokers.length > 0 && (
        <ul>
          {check.brokers.map((b) => (
            <li key={b.id} className="mono">
              broker {b.id} at {b.host}:{b.port}{b.rack ? ` (rack ${b.rack})` : ""}
              {check.controller?.id === b.id && <span className="pill">controller</span>}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
