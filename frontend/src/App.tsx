import { useCallback, useEffect, useMemo, useState } from "react";
import { AlertsLink } from "./alerts/AlertsLink";
import { ALERTS_EVERY_MS, createFiringStore, FiringContext, useFiringPoll } from "./alerts/store";
import { api, session, setUnauthorizedHandler } from "./api/client";
import type { User } from "./api/types";
import { Editor } from "./editor/Editor";
import { AlertsPage } from "./pages/alerts/AlertsPage";
import { Login } from "./pages/Login";
import { PipelineList } from "./pages/PipelineList";
import { useHashRoute } from "./navigation";

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
  return (
    <FiringContext.Provider value={firing}>
      <div className="topbar">
        <strong>Tributary</strong>
        <a href="#/">Pipelines</a>
        <AlertsLink />
        <a href="/docs" target="_blank" rel="noreferrer">API docs</a>
        <span className="spacer" />
        <span data-testid="whoami">{user.email} ({user.role})</span>
        <button onClick={logout}>Log out</button>
      </div>
      {m ? (
        <Editor key={m[1]} pipelineId={m[1] === "new" ? null : Number(m[1])} readOnly={user.role === "viewer"} />
      ) : route === "/alerts" ? (
        <AlertsPage />
      ) : (
        <PipelineList canCreate={user.role !== "viewer"} />
      )}
    </FiringContext.Provider>
  );
}
