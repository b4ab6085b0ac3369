import { useCallback, useEffect, useMemo, useState } from "react";
import { api } from "../../api/client";
import type { FunctionVersion, Worker } from "../../api/types";
import { createHistoryStore } from "../../charts/history";
import { WorkerCharts } from "../../charts/WorkerCharts";
import { AlertsSection } from "./AlertsSection";
import { AllocationsSection } from "./AllocationsSection";
import { DeadLettersSection } from "./DeadLettersSection";
import { EventsSection } from "./EventsSection";
import { NowSection } from "./NowSection";
import { ResetOffsetsSection } from "./ResetOffsetsSection";
import { SettingsSection } from "./SettingsSection";
import { useWorkerData } from "./useWorkerData";
import { VersionsSection } from "./VersionsSection";
import { WorkerHeader } from "./WorkerHeader";
import "./workers.css";

/**
 * WorkerPage (#/workers/<id>) is everything about one worker, in a
 * pipeline or not: its state and actions, settings, autoscaling, charts,
 * alerts, allocations with their logs, config versions, dead letters,
 * offsets and events. Status and metrics refresh every 5 s.
 */
export function WorkerPage({ id, readOnly }: { id: number; readOnly: boolean }) {
  const data = useWorkerData(id);
  const history = useMemo(() => createHistoryStore(), []);
  const [functions, setFunctions] = useState<FunctionVersion[]>([]);
  const [notice, setNotice] = useState("");
  const [changes, setChanges] = useState(0); // bumps what shows the worker's history (events)
  useEffect(() => { api.functions().then(setFunctions).catch(() => setFunctions([])); }, []);

  const { reload, replaced } = data;
  const flash = useCallback((msg: string) => {
    setNotice(msg);
    setChanges((n) => n + 1);
    reload();
  }, [reload]);
  const saved = useCallback((w: Worker, msg: string) => {
    replaced(w);
    setNotice(msg);
    setChanges((n) => n + 1);
  }, [replaced]);

  const w = data.worker;
  if (!w) {
    return <div className="page">{data.error ? <div className="error">{data.error}</div> : <div className="status-line">loading…</div>}</div>;
  }
  return (
    <div className="page" data-testid="worker-page">
      <p><a href="#/workers">← all workers</a></p>
      {notice && <div className="status-line" role="status" data-testid="worker-notice">{notice}</div>}
      <WorkerHeader worker={w} status={data.status} metrics={data.metrics} readOnly={readOnly} done={flash} />
      <div className="cards" style={{ marginTop: 12 }}>
        <SettingsSection worker={w} functions={functions} readOnly={readOnly} part="settings" saved={saved} />
        <div style={{ display: "grid", gap: 12 }}>
          <NowSection metrics={data.metrics} error={data.liveError} />
          <div className="card"><WorkerCharts store={history} workerId={w.id} /></div>
          <AlertsSection worker={w.name} />
          <SettingsSection worker={w} functions={functions} readOnly={readOnly} part="autoscale" saved={saved} />
        </div>
        <AllocationsSection workerId={w.id} status={data.status} />
        <VersionsSection worker={w} readOnly={readOnly} rolledBack={saved} />
        <DeadLettersSection worker={w} readOnly={readOnly} redriven={flash} />
        <ResetOffsetsSection worker={w} metrics={data.metrics} readOnly={readOnly} reset={flash} />
        <EventsSection workerId={w.id} refresh={changes} />
      </div>
    </div>
  );
}
