/** Paste an API key; it is exchanged once for this browser's session cookie (HttpOnly) and kept nowhere. */
import { useState } from "react";
import { useLocation, useNavigate, useSearchParams } from "react-router-dom";
import { ApiError, signIn } from "../lib/api";
import { ErrorBox } from "../components/ui";

/** Where to go after signing in: the page the user was sent away from, if it is a path of this app. */
export function nextPath(next: string | null): string {
  return next && next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/signin") ? next : "/projects";
}

export function SignInPage() {
  const [sp] = useSearchParams();
  const nav = useNavigate();
  const state = useLocation().state as { reason?: string; signedOut?: boolean } | null;
  const [key, setKey] = useState("");
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const next = nextPath(sp.get("next"));
  const submit = async () => {
    setBusy(true);
    setError(null);
    try {
      await signIn(key.trim());
      setKey("");
      nav(next, { replace: true });
    } catch (e) {
      setError(e as ApiError);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="signin panel">
      <h1>Sign in to mltrail</h1>
      {state?.signedOut ? (
        <p className="notice" role="status">You are signed out.</p>
      ) : state?.reason ? (
        <p className="notice" role="status" data-testid="signin-reason">{state.reason}</p>
      ) : null}
      <p className="muted">
        This server requires an API key. Paste yours (<code>mlt_…</code>): it is exchanged for a session of this
        browser and not stored. Ask an admin for one, or run <code>mltrail users create</code> on the server.
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
          autoComplete="off"
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
