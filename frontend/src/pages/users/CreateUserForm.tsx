import { useState, type FormEvent } from "react";
import { api, ApiError } from "../../api/client";
import type { Role, User } from "../../api/types";

/** The roles, lowest first. */
export const ROLES: Role[] = ["viewer", "editor", "admin"];

/** Create a user (POST /auth/register): email, password, role; the API's refusal shows beside its field. */
export function CreateUserForm({ onCreated }: { onCreated: (u: User) => void }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [role, setRole] = useState<Role>("viewer");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const u = await api.createUser(email.trim(), password, role);
      setEmail("");
      setPassword("");
      onCreated(u);
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError(0, "error", String(err)));
    } finally {
      setBusy(false);
    }
  }
  const fieldError = (f: string) => error?.field === f && <div className="error" data-testid={`create-error-${f}`}>{error.message}</div>;

  return (
    <form className="user-create" onSubmit={submit} aria-label="create user" noValidate>
      <h3>New user</h3>
      <label>Email
        <input name="new-email" type="email" autoComplete="off" value={email} onChange={(e) => setEmail(e.target.value)} />
        {fieldError("email")}
      </label>
      <label><span>Password <span className="hint">(8 to 72 bytes)</span></span>
        <input name="new-password" type="password" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} />
        {fieldError("password")}
      </label>
      <label>Role
        <select name="new-role" value={role} onChange={(e) => setRole(e.target.value as Role)}>
          {ROLES.map((r) => <option key={r} value={r}>{r}</option>)}
        </select>
        {fieldError("role")}
      </label>
      <button className="primary" type="submit" disabled={busy}>Create user</button>
      {error && !["email", "password", "role"].includes(error.field ?? "") && <div className="error" role="alert">{error.message}</div>}
    </form>
  );
}
