import { useNotice } from "./context";

/**
 * NoticeArea is the toolbar's status area: the editor's messages (saved,
 * refused, failed) appear here, at the top of the page, always in view.
 */
export function NoticeArea() {
  const text = useNotice((s) => s.text);
  const tone = useNotice((s) => s.tone);
  const dismiss = useNotice((s) => s.dismiss);
  return (
    <div className={`notice ${tone}`} role="status" aria-live="polite" data-testid="notice" hidden={!text}>
      <span className="notice-text">{text}</span>
      {text && <button className="notice-x" title="Dismiss" aria-label="dismiss message" onClick={dismiss}>×</button>}
    </div>
  );
}
