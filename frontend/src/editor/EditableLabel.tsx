import { useState } from "react";

/** A label that becomes a text field on double-click (Enter or blur saves, Escape cancels). */
export function EditableLabel({ value, onSave, disabled }: { value: string; onSave: (v: string) => void; disabled?: boolean }) {
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(value);
  if (!editing) {
    return (
      <div className="label" data-testid="label" title={value} onDoubleClick={() => { if (!disabled) { setDraft(value); setEditing(true); } }}>
        {value}
      </div>
    );
  }
  const done = (save: boolean) => {
    if (save) onSave(draft);
    setEditing(false);
  };
  return (
    <input className="nodrag" autoFocus value={draft} onChange={(e) => setDraft(e.target.value)} onBlur={() => done(true)}
      onKeyDown={(e) => { if (e.key === "Enter") done(true); if (e.key === "Escape") done(false); }} />
  );
}
