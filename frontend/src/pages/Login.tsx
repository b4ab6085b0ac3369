import { useState, type FormEvent } from "react";
import { api, ApiError, session } from "../api/client";
import type { User } from "../api/types";

export function Login({ onLogin }: { onLogin: (u: User) => void }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState("");

  async function submit(e: FormEvent) {
    e.preventDefault();
    setError("");
    try {
      const r = await api.login(email, password);
      session.set(r.access_token);
      onLogin(r.user);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    }
  }

  return (
    <form className="login" onSubmit={submit}>
      <h2>Tributary</h2>
      <input name="email" placeholder="email" autoComplete="username" value={email} onChange={(e) => setEmail(e.target.value)} />
      <input name="password" type="password" placeholder="password" autoComplete="current-password" value={password}
        onChange={(e) => setPassword(e.target.value)} />
      <button className="primary" type="submit">Log in</button>
      {error && <div className="error" role="alert">{error}</div>}
    </form>
  );
}
