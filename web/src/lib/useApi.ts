import { useCallback, useEffect, useRef, useState } from "react";
import { ApiError, type Query } from "./api";
import { getEarly } from "./prefetch";

export interface ApiState<T> {
  data: T | undefined;
  error: ApiError | null;
  loading: boolean;
  reload: () => void;
}

/** GET a path (null: nothing yet); refetches when the path or query change. */
export function useApi<T>(path: string | null, query?: Query): ApiState<T> {
  const key = path === null ? null : `${path}?${JSON.stringify(query ?? {})}`;
  const [state, setState] = useState<{ key: string | null; data?: T; error: ApiError | null }>({
    key: null,
    error: null,
  });
  const [tick, setTick] = useState(0);
  const queryRef = useRef(query);
  queryRef.current = query;
  useEffect(() => {
    if (path === null) return;
    const ctrl = new AbortController();
    getEarly<T>(path, queryRef.current, ctrl.signal).then(
      (data) => setState({ key, data, error: null }),
      (e: unknown) => {
        if (ctrl.signal.aborted) return;
        const err = e instanceof ApiError ? e : new ApiError(0, { type: "Error", message: String(e) });
        setState({ key, error: err });
      },
    );
    return () => ctrl.abort();
  }, [key, tick]); // eslint-disable-line react-hooks/exhaustive-deps
  const reload = useCallback(() => setTick((t) => t + 1), []);
  const fresh = state.key === key;
  return {
    data: fresh ? state.data : state.data,
    error: fresh ? state.error : null,
    loading: path !== null && (!fresh || (state.data === undefined && state.error === null)),
    reload,
  };
}
