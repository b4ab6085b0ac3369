import { useState, type FormEvent } from "react";
import { api, ApiError } from "../../api/client";
import type { Role, User } from "../../api/types";
import { ROLES } from "./CreateUserForm";

/**
 * One user: role select, disable/enable, reset password, delete. Each
 * change goes to the API at once; its refusal shows in the row, beside the
 * control it is about. The admin's own row cannot be disabled or deleted.
 */
export function UserRow({ user, me, onChange, onDeleted }: {
  user: User;
  me: boolean;
  onChange: (u: User) => void;
  onDeleted: (id: number) => void;
}) {
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const [resetting, setResetting] = useState(false);
  const [password, setPassword] = useState("");
  const [notice, setNotice] = useState("");

  async function run(f: () => Promise<void>) {
    setBusy(true);
    setError(null);
    setNotice("");
    try {
      await f();
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, "error", String(err)));
    } finally {
      setBusy(false);
    }
  }
  const patch = (p: { role?: Role; disabled?: boolean }) => run(async () => onChange(await api.updateUser(user.id, p)));
  const reset = (e: FormEvent) => {
    e.preventDefault();
    run(async () => {
      await api.setUserPassword(user.id, password);
      setPassword("");
      setResetting(false);
      setNotice("Password set.");
    });
  };
  const remove = () => {
    if (!window.confirm(`Delete ${user.email}? What they did stays in the event log.`)) return;
    run(async () => {
      await api.deleteUser(user.id);
      onDeleted(user.id);
    });
  };
  const fieldError = (f: string) => error?.field === f && <div className="error">{error.message}</div>;
  const disabled = user.disabled_at != null;

  return (
    <tr data-testid={`user-${user.email}`} className={disabled ? "disabled" : undefined}>
      <td>{user.email}{me && <span className="hint"> (you)</span>}</td>
      <td>
        <select aria-label={`role of ${user.email}`} value={user.role} disabled={busy}
          onChange={(e) => patch({ role: e.target.value as Role })}>
          {ROLES.map((r) => <option key={r} value={r}>{r}</option>)}
        </select>
        {fieldError("role")}
      </td>
      <td data-testid="user-state">
        {disabled ? <span title={user.disabled_at ?? ""}>disabled</span> : "active"}
        {fieldError("disabled")}
      </td>
      <td>{new Date(user.created_at).toLocaleString()}</td>
      <td className="actions">
        <button disabled={busy || me} title={me ? "another admin can disable you" : undefined}
          onClick={() => patch({ disabled: !disabled })}>{disabled ? "Enable" : "Disable"}</button>
        {!resetting && <button disabled={busy} onClick={() => setResetting(true)}>Reset password</button>}
        {resetting && (
          <form className="reset" onSubmit={reset}>
            <input type="password" aria-label={`new password of ${user.email}`} autoComplete="new-password" placeholder="new password"
              value={password} onChange={(e) => setPassword(e.target.value)} autoFocus />
            <button type="submit" className="primary" disabled={busy}>Set</button>
            <button type="button" onClick={() => { setResetting(false); setError(null); }}>Cancel</button>
          </form>
        )}
        {fieldError("password")}
        <button className="danger" disabled={busy || me} onClick={remove}>Delete</button>
        {error && !["role", "disabled", "password"].includes(error.field ?? "") && <div className="error" role="alert">{error.message}</div>}
        {notice && <div className="ok">{notice}</div>}
      </td>
    </tr>
  );
}
