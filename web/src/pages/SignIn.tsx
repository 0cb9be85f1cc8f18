/** Paste an API key; it is kept in sessionStorage and sent as a Bearer header (a cookie session later). */
import { useState } from "react";
import { useNavigate, useSearchParams } from "react-router-dom";
import { ApiError, apiGet, setApiKey } from "../lib/api";
import type { Me } from "../lib/types";
import { ErrorBox } from "../components/ui";

export function SignInPage() {
  const [sp] = useSearchParams();
  const nav = useNavigate();
  const [key, setKey] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const next = sp.get("next") || "/projects";
  const submit = async () => {
    setBusy(true);
    setError(null);
    setApiKey(key.trim());
    try {
      await apiGet<Me>("/me");
      nav(next.startsWith("/") && !next.startsWith("//") ? next : "/projects", { replace: true });
    } catch (e) {
      setApiKey(null);
      setError(e as ApiError);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="signin panel">
      <h1>Sign in to mltrail</h1>
      <p className="muted">
        This server requires an API key. Paste yours (<code>mlt_…</code>); it is kept in this tab only.
        Ask an admin for one, or run <code>mltrail users create</code> on the server.
      </p>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <input
          type="password"
          aria-label="API key"
          placeholder="mlt_…"
          value={key}
          onChange={(e) => setKey(e.target.value)}
          style={{ width: "100%", fontFamily: "var(--mono)", marginBottom: 8 }}
          autoFocus
        />
        <button className="primary" type="submit" disabled={busy || !key.trim()}>
          Sign in
        </button>
      </form>
      <ErrorBox error={error} />
    </div>
  );
}
