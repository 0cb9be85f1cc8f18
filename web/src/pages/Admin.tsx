/** Admin: users, API keys (a new key is shown once) and project members. */
import { useState } from "react";
import { useSearchParams } from "react-router-dom";
import { ApiError, apiSend } from "../lib/api";
import { useApi } from "../lib/useApi";
import type { ApiKey, Project, User } from "../lib/types";
import { fmtTime } from "../lib/format";
import { useMe } from "../lib/me";
import { Badge, ErrorBox, Fetched, Note, Tabs } from "../components/ui";

const ROLES = ["viewer", "member", "maintainer", "admin"];

function ShownOnce({ secret }: { secret: string | null }) {
  if (!secret) return null;
  return (
    <div className="note" style={{ borderColor: "var(--warn)", color: "var(--text)" }} data-testid="new-key">
      <b>Copy this key now; it will not be shown again.</b>
      <pre className="code" style={{ marginTop: 6 }}>{secret}</pre>
      <button onClick={() => void navigator.clipboard?.writeText(secret)}>Copy</button>
    </div>
  );
}

export default function AdminPage() {
  const [sp] = useSearchParams();
  const tab = sp.get("tab") ?? "users";
  const me = useMe();
  return (
    <>
      <div className="page-head">
        <h1>Admin</h1>
        {me && !me.authenticated ? <span className="sub">The server runs without authentication: accounts matter once it runs with --auth.</span> : null}
      </div>
      <Tabs tabs={[["users", "Users"], ["keys", "API keys"], ["members", "Project members"]]} />
      {tab === "users" ? <Users /> : null}
      {tab === "keys" ? <Keys /> : null}
      {tab === "members" ? <Members /> : null}
    </>
  );
}

function Users() {
  const state = useApi<User[]>("/users");
  const [name, setName] = useState("");
  const [role, setRole] = useState("member");
  const [secret, setSecret] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const create = async () => {
    setError(null);
    try {
      const res = await apiSend<{ api_key: { key: string } }>("POST", "/users", { name, role });
      setSecret(res.api_key.key);
      setName("");
      state.reload();
    } catch (e) {
      setError(e as ApiError);
    }
  };
  const patch = async (u: User, body: Record<string, unknown>) => {
    setError(null);
    try {
      await apiSend("PATCH", `/users/${encodeURIComponent(u.name)}`, body);
      state.reload();
    } catch (e) {
      setError(e as ApiError);
    }
  };
  if (state.error?.status === 403) return <Note>Only a server admin sees the users.</Note>;
  return (
    <>
      <div className="toolbar">
        <input placeholder="new user name" value={name} onChange={(e) => setName(e.target.value)} />
        <select value={role} onChange={(e) => setRole(e.target.value)}>
          {ROLES.map((r) => <option key={r}>{r}</option>)}
        </select>
        <button className="primary" disabled={!name} onClick={() => void create()}>Create user</button>
      </div>
      <ShownOnce secret={secret} />
      <ErrorBox error={error} />
      <Fetched state={state} what="users">
        {(users) =>
          users.length === 0 ? (
            <div className="muted">No users yet. Create the first admin here or with <code>mltrail users create NAME --role admin</code>.</div>
          ) : (
          <table className="t">
            <thead><tr><th>user</th><th>role</th><th>state</th><th>created</th><th /></tr></thead>
            <tbody>
              {users.map((u) => (
                <tr key={u.name}>
                  <td>{u.name}</td>
                  <td>
                    <select value={u.role} onChange={(e) => void patch(u, { role: e.target.value })}>
                      {ROLES.map((r) => <option key={r}>{r}</option>)}
                    </select>
                  </td>
                  <td>{u.disabled ? <Badge kind="bad">disabled</Badge> : <Badge kind="ok">active</Badge>}</td>
                  <td>{fmtTime(u.created_at)}</td>
                  <td><button onClick={() => void patch(u, { disabled: !u.disabled })}>{u.disabled ? "Enable" : "Disable"}</button></td>
                </tr>
              ))}
            </tbody>
          </table>
          )
        }
      </Fetched>
    </>
  );
}

function Keys() {
  const state = useApi<ApiKey[]>("/keys");
  const [name, setName] = useState("");
  const [expires, setExpires] = useState("90d");
  const [secret, setSecret] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const create = async () => {
    setError(null);
    try {
      const res = await apiSend<ApiKey>("POST", "/keys", { name: name || "default", expires_in: expires || null });
      setSecret(res.key ?? null);
      state.reload();
    } catch (e) {
      setError(e as ApiError);
    }
  };
  const revoke = async (k: ApiKey) => {
    if (!confirm(`Revoke key ${k.key_id}?`)) return;
    try {
      await apiSend("DELETE", `/keys/${encodeURIComponent(k.key_id)}`);
      state.reload();
    } catch (e) {
      setError(e as ApiError);
    }
  };
  return (
    <>
      <div className="toolbar">
        <input placeholder="key name" value={name} onChange={(e) => setName(e.target.value)} />
        <select value={expires} onChange={(e) => setExpires(e.target.value)}>
          <option value="7d">expires in 7 days</option>
          <option value="30d">30 days</option>
          <option value="90d">90 days</option>
          <option value="365d">a year</option>
          <option value="">never</option>
        </select>
        <button className="primary" onClick={() => void create()}>Create key</button>
      </div>
      <ShownOnce secret={secret} />
      <ErrorBox error={error} />
      <Fetched state={state} what="keys">
        {(keys) =>
          keys.length === 0 ? (
            <div className="muted">No keys.</div>
          ) : (
            <table className="t">
              <thead><tr><th>key id</th><th>name</th><th>user</th><th>created</th><th>expires</th><th>last used</th><th>state</th><th /></tr></thead>
              <tbody>
                {keys.map((k) => (
                  <tr key={k.key_id}>
                    <td className="mono">{k.key_id}</td>
                    <td>{k.name}</td>
                    <td>{k.user}</td>
                    <td>{fmtTime(k.created_at)}</td>
                    <td>{fmtTime(k.expires_at)}</td>
                    <td>{fmtTime(k.last_used_at ?? null)}</td>
                    <td>{k.revoked_at ? <Badge kind="bad">revoked</Badge> : <Badge kind="ok">active</Badge>}</td>
                    <td>{k.revoked_at ? null : <button className="danger" onClick={() => void revoke(k)}>Revoke</button>}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Fetched>
    </>
  );
}

function Members() {
  const [sp, setSp] = useSearchParams();
  const projects = useApi<Project[]>("/projects");
  const project = sp.get("project") ?? projects.data?.[0]?.name ?? "";
  const state = useApi<{ project: string; user: string; role: string }[]>(project ? `/projects/${encodeURIComponent(project)}/members` : null);
  const [user, setUser] = useState("");
  const [role, setRole] = useState("member");
  const [error, setError] = useState<ApiError | null>(null);
  const put = async (u: string, r: string) => {
    setError(null);
    try {
      await apiSend("PUT", `/projects/${encodeURIComponent(project)}/members/${encodeURIComponent(u)}`, { role: r });
      state.reload();
    } catch (e) {
      setError(e as ApiError);
    }
  };
  const remove = async (u: string) => {
    try {
      await apiSend("DELETE", `/projects/${encodeURIComponent(project)}/members/${encodeURIComponent(u)}`);
      state.reload();
    } catch (e) {
      setError(e as ApiError);
    }
  };
  return (
    <>
      <div className="toolbar">
        <select
          value={project}
          onChange={(e) => {
            const next = new URLSearchParams(sp);
            next.set("project", e.target.value);
            setSp(next, { replace: true });
          }}
        >
          {projects.data?.map((p) => <option key={p.name}>{p.name}</option>)}
        </select>
        <input placeholder="user" value={user} onChange={(e) => setUser(e.target.value)} />
        <select value={role} onChange={(e) => setRole(e.target.value)}>
          {["none", "viewer", "member", "maintainer"].map((r) => <option key={r}>{r}</option>)}
        </select>
        <button className="primary" disabled={!user || !project} onClick={() => void put(user, role)}>Set role</button>
      </div>
      <ErrorBox error={error} />
      {state.error?.status === 403 ? (
        <Note>Only a maintainer of {project} sees its members.</Note>
      ) : (
        <Fetched state={state} what="members">
          {(rows) =>
            rows.length === 0 ? (
              <div className="muted">No membership rows: every user has their server role here.</div>
            ) : (
              <table className="t">
                <thead><tr><th>user</th><th>role</th><th /></tr></thead>
                <tbody>
                  {rows.map((m) => (
                    <tr key={m.user}>
                      <td>{m.user}</td>
                      <td>
                        <select value={m.role} onChange={(e) => void put(m.user, e.target.value)}>
                          {["none", "viewer", "member", "maintainer"].map((r) => <option key={r}>{r}</option>)}
                        </select>
                      </td>
                      <td><button className="danger" onClick={() => void remove(m.user)}>Remove</button></td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )
          }
        </Fetched>
      )}
    </>
  );
}
