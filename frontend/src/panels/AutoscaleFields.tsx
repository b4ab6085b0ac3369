import type { Autoscale } from "../api/types";

interface Props {
  value: Autoscale | null | undefined;
  readOnly: boolean;
  /** the API's refusals by field, "autoscale.max" and the like */
  errors: Record<string, string>;
  onChange: (a: Autoscale) => void;
}

// New policies start from what the API itself would need: at least one
// instance, a bound above it, and a lag per instance to divide by.
const fresh: Autoscale = { enabled: false, min: 1, max: 3, lag_per_instance: 1000, activation_lag: 0, cooldown_seconds: 300 };

/**
 * AutoscaleFields edits a worker's lag autoscaling. While it is on, the
 * API refuses a manual scale, so the panel says so next to the switch.
 */
export function AutoscaleFields({ value, readOnly, errors, onChange }: Props) {
  const a = value ?? fresh;
  const set = (patch: Partial<Autoscale>) => onChange({ ...a, ...patch });
  const num = (key: keyof Autoscale, label: string, min: number) => (
    <>
      <label>{label}</label>
      <input type="number" min={min} value={(a[key] as number | undefined) ?? ""} disabled={readOnly || !a.enabled}
        aria-label={`autoscale ${key}`}
        onChange={(e) => set({ [key]: e.target.value === "" ? undefined : Number(e.target.value) })} />
      {errors[`autoscale.${key}`] && <div className="error">{errors[`autoscale.${key}`]}</div>}
    </>
  );
  return (
    <div data-testid="autoscale">
      <label>
        <input type="checkbox" checked={a.enabled} disabled={readOnly} aria-label="autoscale enabled"
          onChange={(e) => set({ enabled: e.target.checked })} /> autoscale on consumer lag
      </label>
      {a.enabled && <div className="status-line">instances = ceil(lag / lag per instance), between min and max; Scale is refused while this is on.</div>}
      {errors.autoscale && <div className="error">{errors.autoscale}</div>}
      {num("min", "min instances", 1)}
      {num("max", "max instances (at most the input partitions are used)", 1)}
      {num("lag_per_instance", "lag per instance (messages)", 1)}
      {num("activation_lag", "activation lag (below it, stay at min)", 0)}
      {num("cooldown_seconds", "cooldown before scaling down (seconds)", 0)}
    </div>
  );
}
