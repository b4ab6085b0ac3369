import { useCallback, useEffect, useMemo, useState } from "react";
import { AlertsLink } from "./alerts/AlertsLink";
import { ALERTS_EVERY_MS, createFiringStore, FiringContext, useFiringPoll } from "./alerts/store";
import { api, session, setUnauthorizedHandler } from "./api/client";
import type { User } from "./api/types";
import { Editor } from "./editor/Editor";
import { AlertsPage } from "./pages/alerts/AlertsPage";
import { ClusterForm } from "./pages/clusters/ClusterForm";
import { ClusterPage } from "./pages/clusters/ClusterPage";
import { ClustersPage } from "./pages/clusters/ClustersPage";
import { FunctionsPage } from "./pages/functions/FunctionsPage";
import { Login } from "./pages/Login";
import { PipelineList } from "./pages/PipelineList";
import { TracePage } from "./pages/TracePage";
import { UsersPage } from "./pages/users/UsersPage";
import { WorkerPage } from "./pages/workers/WorkerPage";
import { WorkersPage } from "./pages/workers/WorkersPage";
import { useHashRoute } from "./navigation";

/**
 * The route is the hash: #/ (pipelines), #/pipelines/new, #/pipelines/<id>, #/alerts,
 * #/clusters, #/clusters/new, #/clusters/<id>[/edit|/groups|/messages[/<topic>]], #/traces/<trace id>,
 * #/workers, #/workers/<id>, #/functions, #/users (admins).
 */

export function App() {
  const [user, setUser] = useState<User | null>(null);
  const [checked, setChecked] = useState(false);
  const route = useHashRoute();
  const firing = useMemo(() => createFiringStore(), []);
  useFiringPoll(firing, user ? ALERTS_EVERY_MS : null);

  const logout = useCallback(() => {
    session.clear();
    setUser(null);
  }, []);

  useEffect(() => {
    setUnauthorizedHandler(logout);
    if (!session.token()) {
      setChecked(true);
      return;
    }
    api.me().then(setUser).catch(() => session.clear()).finally(() => setChecked(true));
  }, [logout]);

  if (!checked) return null;
  if (!user) return <Login onLogin={setUser} />;

  const m = /^\/pipelines\/(new|\d+)$/.exec(route);
  const canEdit = user.role !== "viewer";
  const cl = /^\/clusters\/(\d+)(?:\/(edit|groups|messages)(?:\/([^/]+))?)?$/.exec(route);
  const worker = /^\/workers\/(\d+)$/.exec(route);
  const tr = /^\/traces\/([0-9a-fA-F]{16,32})$/.exec(route);
  let page;
  if (m) page = <Editor key={m[1]} pipelineId={m[1] === "new" ? null : Number(m[1])} readOnly={user.role === "viewer"} />;
  else if (route === "/alerts") page = <AlertsPage />;
  else if (worker) page = <WorkerPage key={worker[1]} id={Number(worker[1])} readOnly={!canEdit} />;
  else if (route === "/workers") page = <WorkersPage />;
  else if (route === "/functions") page = <FunctionsPage canUpload={canEdit} />;
  else if (route === "/users" && user.role === "admin") page = <UsersPage me={user} />;
  else if (route === "/clusters") page = <ClustersPage canEdit={canEdit} />;
  else if (route === "/clusters/new") page = <ClusterForm key="new" id={null} />;
  else if (cl && cl[2] === "edit") page = <ClusterForm key={cl[1]} id={Number(cl[1])} />;
  else if (cl) {
    page = <ClusterPage key={cl[1]} id={Number(cl[1])} tab={cl[2] === "groups" ? "groups" : cl[2] === "messages" ? "messages" : "topics"}
      topic={cl[3] ? decodeURIComponent(cl[3]) : null} canEdit={canEdit} />;
  } else if (tr) page = <TracePage traceId={tr[1].toLowerCase()} />;
  else page = <PipelineList canCreate={canEdit} />;
  return (
    <FiringContext.Provider value={firing}>
      <div className="topbar">
        <strong>Tributary</strong>
        <a href="#/">Pipelines</a>
        <a href="#/clusters">Clusters</a>
        <a href="#/workers">Workers</a>
        <a href="#/functions">Functions</a>
        <AlertsLink />
        {user.role === "admin" && <a href="#/users">Users</a>}
        <a href="/docs" target="_blank" rel="noreferrer">API docs</a>
        <span className="spacer" />
        <span data-testid="whoami">{user.email} ({user.role})</span>
        <button onClick={logout}>Log out</button>
      </div>
      {page}
    </FiringContext.Provider>
  );
}
