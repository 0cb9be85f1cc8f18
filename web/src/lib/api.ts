/** The one client of /api/v1: Bearer key from sessionStorage, errors as ApiError with the server's message. */

export const KEY_STORAGE = "mltrail.apiKey";

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

export function getApiKey(): string | null {
  try {
    return sessionStorage.getItem(KEY_STORAGE);
  } catch {
    return null;
  }
}

export function setApiKey(key: string | null): void {
  if (key) sessionStorage.setItem(KEY_STORAGE, key);
  else sessionStorage.removeItem(KEY_STORAGE);
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

/** Listeners told when the server answers 401, so the app can send the user to sign in. */
const unauthorizedListeners = new Set<() => void>();
export function onUnauthorized(fn: () => void): () => void {
  unauthorizedListeners.add(fn);
  return () => unauthorizedListeners.delete(fn);
}

export function authHeaders(): Record<string, string> {
  const key = getApiKey();
  return key ? { Authorization: `Bearer ${key}` } : {};
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

export async function apiFetch(path: string, init: RequestInit & { query?: Query } = {}): Promise<Response> {
  const { query, headers, ...rest } = init;
  let res: Response;
  try {
    res = await fetch(buildUrl(path, query), {
      ...rest,
      headers: { Accept: "application/json", ...authHeaders(), ...(headers as Record<string, string> | undefined) },
    });
  } catch (e) {
    throw new ApiError(0, { type: "NetworkError", message: `cannot reach the server (${String(e)})` });
  }
  if (!res.ok) {
    const err = await toError(res);
    if (res.status === 401) unauthorizedListeners.forEach((fn) => fn());
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

/** Floats come as numbers or the strings "NaN", "Infinity", "-Infinity". */
export function num(v: unknown): number | null {
  if (typeof v === "number") return v;
  if (v === "NaN") return NaN;
  if (v === "Infinity") return Infinity;
  if (v === "-Infinity") return -Infinity;
  return null;
}
