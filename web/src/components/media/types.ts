/** Shapes of /api/v1/runs/{run}/media (api/tracking/media_schemas.py). */

export interface MediaName {
  name: string;
  kind: "image" | "histogram" | "figure" | string;
  steps: number[];
}

export interface MediaFile {
  role: string;
  digest: string;
  size: number;
  mime: string;
}

export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
  label: string;
  score?: number;
}

export interface MediaItem {
  run_id: string;
  name: string;
  step: number;
  kind: string;
  files: MediaFile[];
  meta: {
    width?: number;
    height?: number;
    format?: string;
    caption?: string | null;
    boxes?: Box[];
    mask_labels?: Record<string, string>;
    counts?: number[];
    edges?: number[];
    library?: string | null;
  };
  created_at: number;
}

/** The URL of one file of an item: a plain GET the browser makes itself (the session cookie goes along). */
export function mediaFileUrl(runId: string, name: string, role: string, step: number): string {
  const path = `/api/v1/runs/${encodeURIComponent(runId)}/media/${encodeURIComponent(name)}/files/${role}`;
  return `${path}?step=${step}`;
}

export function hasFile(item: MediaItem, role: string): boolean {
  return item.files.some((f) => f.role === role);
}
