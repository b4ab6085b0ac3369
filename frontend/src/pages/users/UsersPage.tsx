import { useEffect, useState } from "react";
import { api, ApiError } from "../../api/client";
import type { User } from "../../api/types";
import { CreateUserForm } from "./CreateUserForm";
import { UserRow } from "./UserRow";
import "./users.css";

/** Users tests create start with this; they are hidden unless asked for. */
const TEST_PREFIX = "e2e-";

/** The Users page (admins only; the API refuses everyone else): list, create, role, disable, password, delete. */
export function UsersPage({ me }: { me: User }) {
  const [users, setUsers] = useState<User[] | null>(null);
  const [error, setError] = useState("");
  const [showTest, setShowTest] = useState(false);
  const [created, setCreated] = useState<Set<number>>(new Set());

  useEffect(() => {
    api.users().then(setUsers).catch((e: ApiError) => setError(e.message));
  }, []);

  const replace = (u: User) => setUsers((l) => l?.map((x) => (x.id === u.id ? u : x)) ?? null);
  const add = (u: User) => {
    setCreated((s) => new Set(s).add(u.id)); // shown even when its name is a test's
    setUsers((l) => [...(l ?? []), u]);
  };
  const visible = (users ?? []).filter((u) => showTest || created.has(u.id) || !u.email.startsWith(TEST_PREFIX));
  const hidden = (users?.length ?? 0) - visible.length;

  return (
    <div className="page users-page" data-testid="users-page">
      <h2>Users</h2>
      <p className="hint">
        Viewers read everything; editors also change and deploy; admins also manage users.
        A disabled user cannot log in, and is logged out on its next request.
      </p>
      <div className="users-layout">
        <div>
          {error && <div className="error">{error}</div>}
          {users && (
            <>
              <table className="list users">
                <thead><tr><th>Email</th><th>Role</th><th>State</th><th>Created</th><th /></tr></thead>
                <tbody>
                  {visible.map((u) => (
                    <UserRow key={u.id} user={u} me={u.id === me.id} onChange={replace}
                      onDeleted={(id) => setUsers((l) => l?.filter((x) => x.id !== id) ?? null)} />
                  ))}
                </tbody>
              </table>
              {visible.length === 0 && <p className="status-line">No users to show: create one with the form.</p>}
              {(hidden > 0 || showTest) && (
                <label className="hint">
                  <input type="checkbox" checked={showTest} onChange={(e) => setShowTest(e.target.checked)} />
                  {" "}show test users ({TEST_PREFIX}…){hidden > 0 && `: ${hidden} hidden`}
                </label>
              )}
            </>
          )}
        </div>
        <CreateUserForm onCreated={add} />
      </div>
    </div>
  );
}
