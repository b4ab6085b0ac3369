import { useEditor, useLive } from "../../context";
import { healthOf, type Health, type HealthTone } from "./health";

/**
 * useWorkerHealth is healthOf for the worker of that name, selected as one
 * string so that a status refresh re-renders the worker only when its line
 * changes.
 */
export function useWorkerHealth(name: string): Health {
  const saved = useEditor((s) => s.workerIds[name] !== undefined);
  const line = useLive((l) => {
    const h = healthOf({ saved, loaded: l.loaded, error: l.error, status: l.status[name], metrics: l.metrics[name] });
    return `${h.tone}\n${h.text}`;
  });
  const [tone, text] = line.split("\n");
  return { tone: tone as HealthTone, text };
}
