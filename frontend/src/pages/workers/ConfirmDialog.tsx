import type { ReactNode } from "react";

interface Props {
  title: string;
  children: ReactNode;
  confirm: string;
  busy?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}

/** ConfirmDialog asks before an action that cannot be undone from the page; Escape or the backdrop cancels. */
export function ConfirmDialog({ title, children, confirm, busy, onConfirm, onCancel }: Props) {
  return (
    <div className="modal-back" onClick={onCancel} onKeyDown={(e) => e.key === "Escape" && onCancel()}>
      <div className="modal" role="dialog" aria-modal="true" aria-label={title} data-testid="confirm-dialog" onClick={(e) => e.stopPropagation()}>
        <h3>{title}</h3>
        {children}
        <div className="actions">
          <button className="primary" disabled={busy} onClick={onConfirm} autoFocus>{confirm}</button>
          <button onClick={onCancel}>Cancel</button>
        </div>
      </div>
    </div>
  );
}
