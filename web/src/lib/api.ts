/**
 * The one client of /api/v1. A signed-in browser holds an HttpOnly session cookie (POST /api/v1/session), which
 * it sends by itself and script cannot read; writes add the session's CSRF token as X-CSRF-Token. No key or
 * token is kept in storage: the CSRF token lives in memory and is read again from GET /session after a reload.
 * Errors come as ApiError with the server's message.
 */

export const CSRF_HEADER = "X-CSRF-Token";
const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** What POST and GET /api/v1/session answer. */
export interface Session {
  user: string;
  role: string;
  key_id: string;
  expires_at: number;
  csrf_token: string;
}

export interface ServerError {
  type: string;
  message: string;
  field?: string | null;
  position?: number | null;
  text?: string | null;
}

export class ApiError extends Error {
  readonly status: number;
  readonly type: string;
  readonly field: string | null;
  readonly position: number | null;
  readonly text: string | null;

  constructor(status: number, err: ServerError) {
    super(err.message);
    this.status = status;
    this.type = err.type;
    this.field = err.field ?? null;
    this.position = err.position ?? null;
    this.text = err.text ?? null;
  }
}

let csrfToken: string | null = null;
let csrfRefresh: Promise<string | null> | null = null;

export function getCsrfToken(): string | null {
  return csrfToken;
}

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

export type Query = Record<string, string | number | boolean | null | undefined | (string | number)[]>;

export function buildUrl(path: string, query?: Query): string {
  const url = path.startsWith("/api/") ? path : `/api/v1${path.startsWith("/") ? "" : "/"}${path}`;
  if (!query) return url;
  const sp = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null || v === "") continue;
    if (Array.isArray(v)) v.forEach((item) => sp.append(k, String(item)));
    else sp.append(k, String(v));
  }
  const qs = sp.toString();
  return qs ? `${url}?${qs}` : url;
}

/** Listeners told when the server answers 401, so the app can send the user to sign in (and back). */
const unauthorizedListeners = new Set<(error: ApiError) => void>();
export function onUnauthorized(fn: (error: ApiError) => void): () => void {
  unauthorizedListeners.add(fn);
  return () => unauthorizedListeners.delete(fn);
}

async function toError(res: Response): Promise<ApiError> {
  let body: unknown = null;
  try {
    body = await res.json();
  } catch {
    /* not JSON */
  }
  const err = (body as { error?: ServerError } | null)?.error;
  if (err && typeof err.message === "string") return new ApiError(res.status, err);
  return new ApiError(res.status, { type: "HttpError", message: `${res.status} ${res.statusText || "error"}` });
}

async function send(url: string, init: RequestInit, headers: Record<string, string>, unsafe: boolean): Promise<Response> {
  const csrf: Record<string, string> = unsafe && csrfToken ? { [CSRF_HEADER]: csrfToken } : {};
  try {
    return await fetch(url, {
      ...init,
      credentials: "same-origin",
      headers: { Accept: "application/json", ...csrf, ...headers },
    });
  } catch (e) {
    throw new ApiError(0, { type: "NetworkError", message: `cannot reach the server (${String(e)})` });
  }
}

/** The session's CSRF token read again (after a reload, or a sign-in in another tab); null without a session. */
export function refreshCsrfToken(): Promise<string | null> {
  csrfRefresh ??= fetch(buildUrl("/session"), { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(async (res) => (res.ok ? ((await res.json()) as Session).csrf_token : null))
    .catch(() => null)
    .then((token) => {
      csrfToken = token;
      csrfRefresh = null;
      return token;
    });
  return csrfRefresh;
}

export async function apiFetch(path: string, init: RequestInit & { query?: Query } = {}): Promise<Response> {
  const { query, headers, ...rest } = init;
  const url = buildUrl(path, query);
  const extra = (headers as Record<string, string> | undefined) ?? {};
  const unsafe = UNSAFE.has((rest.method ?? "GET").toUpperCase());
  let res = await send(url, rest, extra, unsafe);
  let err = res.ok ? null : await toError(res);
  if (err && unsafe && res.status === 403 && err.field === CSRF_HEADER) {
    // A write refused before it ran, for want of the token this page has not read yet: read it, send again.
    const before = csrfToken;
    if ((await refreshCsrfToken()) && csrfToken !== before) {
      res = await send(url, rest, extra, unsafe);
      err = res.ok ? null : await toError(res);
    }
  }
  if (err) {
    if (res.status === 401) unauthorizedListeners.forEach((fn) => fn(err));
    throw err;
  }
  return res;
}

export async function apiGet<T>(path: string, query?: Query, signal?: AbortSignal): Promise<T> {
  const res = await apiFetch(path, { query, signal });
  return (await res.json()) as T;
}

export async function apiText(path: string, signal?: AbortSignal): Promise<string> {
  const res = await apiFetch(path, { signal, headers: { Accept: "*/*" } });
  return await res.text();
}

export async function apiSend<T>(method: string, path: string, body?: unknown, query?: Query): Promise<T> {
  const res = await apiFetch(path, {
    method,
    query,
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

/** Exchange an API key for the session cookie; the key is sent once and kept nowhere. */
export async function signIn(apiKey: string): Promise<Session> {
  const session = await apiSend<Session>("POST", "/session", { api_key: apiKey });
  csrfToken = session.csrf_token;
  return session;
}

/** End the session on the server and drop the cookie; the token is forgotten whatever the server says. */
export async function signOut(): Promise<void> {
  try {
    await apiSend<void>("DELETE", "/session");
  } finally {
    csrfToken = null;
  }
}

/** Floats come as numbers or the strings "NaN", "Infinity", "-Infinity". */
export function num(v: unknown): number | null {
  if (typeof v === "number") return v;
  if (v === "NaN") return NaN;
  if (v === "Infinity") return Infinity;
  if (v === "-Infinity") return -Infinity;
  return null;
}
