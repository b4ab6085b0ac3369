import { useEffect, useState } from "react";
import { api, ApiError, fieldErrors } from "../../api/client";
import type { FunctionVersion, Worker } from "../../api/types";
import { AutoscaleFields } from "../../panels/AutoscaleFields";
import { WorkerSettingsForm } from "../../panels/WorkerSettingsForm";
import { topicList, workerInput, type WorkerPatch } from "./workerInput";

interface Props {
  worker: Worker;
  functions: FunctionVersion[];
  readOnly: boolean;
  /** "settings" edits everything but autoscaling; "autoscale" only that */
  part: "settings" | "autoscale";
  saved: (w: Worker, message: string) => void;
}

/**
 * SettingsSection edits a worker with the editor panel's form and saves
 * it with PUT /workers/{id}: a change makes a new config version. A
 * pipeline's worker is edited in its pipeline, whose graph holds its
 * settings, so here it is shown read-only.
 */
export function SettingsSection({ worker: w, readOnly, part, saved }: Props) {
  const [patch, setPatch] = useState<WorkerPatch>({});
  const [inputs, setInputs] = useState("");
  const [outputs, setOutputs] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const inPipeline = w.pipeline_id !== null;
  const locked = readOnly || inPipeline;
  useEffect(() => {
    setPatch({});
    setInputs(w.input_topics.join(", "));
    setOutputs(w.output_topics.join(", "));
    setError(null);
  }, [w]);
  const settings = { ...w, ...patch, cluster_id: w.cluster_id ?? undefined };
  const errs = error ? fieldErrors(error) : {};
  const dirty = Object.keys(patch).length > 0;
  const set = (p: WorkerPatch) => setPatch((old) => ({ ...old, ...p }));

  async function save() {
    setBusy(true);
    setError(null);
    try {
      const next = await api.putWorker(w.id, workerInput(w, patch));
      saved(next, next.config_version === w.config_version ? "Saved: nothing changed." : `Saved as config version ${next.config_version}.`);
    } catch (e) {
      setError(e as ApiError);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="card" data-testid={part === "settings" ? "worker-settings" : "worker-autoscale"}>
      <h3>{part === "settings" ? "Settings" : "Autoscaling"}</h3>
      {inPipeline && (
        <div className="status-line">
          This worker belongs to <a href={`#/pipelines/${w.pipeline_id}`}>pipeline {w.pipeline_id}</a>: edit it there, where its graph keeps its settings.
        </div>
      )}
      {part === "settings" ? (
        <>
          <label>input topics (comma-separated)</label>
          <input value={inputs} disabled={locked} aria-label="input topics"
            onChange={(e) => { setInputs(e.target.value); set({ input_topics: topicList(e.target.value) }); }} />
          {Object.entries(errs).filter(([k]) => k.startsWith("input_topics")).map(([k, m]) => <div key={k} className="error">{m}</div>)}
          <label>output topics (comma-separated)</label>
          <input value={outputs} disabled={locked} aria-label="output topics"
            onChange={(e) => { setOutputs(e.target.value); set({ output_topics: topicList(e.target.value) }); }} />
          {Object.entries(errs).filter(([k]) => k.startsWith("output_topics")).map(([k, m]) => <div key={k} className="error">{m}</div>)}
          <WorkerSettingsForm nodeId={`${w.id}/${w.config_version}`} name={w.name} settings={settings} readOnly={locked} errors={errs}
            onChange={set} showTestNames={false} autoscale={false} />
        </>
      ) : (
        <AutoscaleFields value={settings.autoscale} readOnly={locked} errors={errs} onChange={(a) => set({ autoscale: a })} />
      )}
      {error && <div className="error" data-testid="settings-error">Not saved: {error.field ? `${error.field}: ` : ""}{error.message}</div>}
      {!locked && (
        <div className="actions">
          <button className="primary" disabled={!dirty || busy} onClick={save}>Save</button>
          <button disabled={!dirty || busy} onClick={() => { setPatch({}); setInputs(w.input_topics.join(", ")); setOutputs(w.output_topics.join(", ")); setError(null); }}>
            Discard changes
          </button>
          {part === "autoscale" && <span className="muted">Autoscaling is not part of the config versions: a rollback keeps it.</span>}
        </div>
      )}
    </div>
  );
}
