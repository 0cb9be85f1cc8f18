/** A run's artifacts: a list, a preview (text, JSON, CSV as a table, images) and downloads with the key. */
import { useEffect, useMemo, useState } from "react";
import { apiFetch } from "../lib/api";
import type { Artifact } from "../lib/types";
import { fmtBytes, fmtTime } from "../lib/format";
import { ErrorBox } from "./ui";

const PREVIEW_LIMIT = 2 * 1024 * 1024;

export function artifactUrl(runId: string, path: string): string {
  return `/runs/${runId}/artifacts/${path.split("/").map(encodeURIComponent).join("/")}`;
}

export async function downloadArtifact(runId: string, path: string): Promise<void> {
  const res = await apiFetch(artifactUrl(runId, path), { headers: { Accept: "*/*" } });
  const blob = await res.blob();
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = path.split("/").pop() ?? "artifact";
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

export function parseCsv(text: string, maxRows = 500): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length && rows.length < maxRows; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      row.push(cell);
      cell = "";
    } else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && text[i + 1] === "\n") i++;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = "";
    } else cell += ch;
  }
  if (cell !== "" || row.length) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}

type Preview =
  | { kind: "text"; text: string; truncated: boolean }
  | { kind: "json"; text: string }
  | { kind: "csv"; rows: string[][] }
  | { kind: "image"; url: string }
  | { kind: "binary" };

const IMAGE = /\.(png|jpe?g|gif|svg|webp|bmp)$/i;
const TEXT = /\.(txt|log|md|py|json|ya?ml|toml|cfg|ini|csv|tsv|patch|diff|sh|js|ts|html|xml|rst|jsonl)$/i;

const TEXTUAL = new Set(["application/json", "application/x-ndjson", "application/yaml", "application/toml", "application/xml", "application/javascript"]);

/** How to preview an artifact: by the server's ``content_type`` when it names one, else by the extension. */
export function previewKind(art: Pick<Artifact, "path" | "content_type">): "image" | "json" | "csv" | "text" | "binary" {
  const ct = (art.content_type ?? "").toLowerCase();
  if (ct.startsWith("image/")) return "image";
  if (ct === "application/json") return "json";
  if (ct === "text/csv") return "csv";
  if (ct.startsWith("text/") || TEXTUAL.has(ct)) return "text";
  const p = art.path;
  if (IMAGE.test(p)) return "image";
  if (/\.json$/i.test(p)) return "json";
  if (/\.csv$/i.test(p)) return "csv";
  return TEXT.test(p) ? "text" : "binary";
}

function PreviewView({ runId, art }: { runId: string; art: Artifact }) {
  const [preview, setPreview] = useState<Preview | null>(null);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let url: string | null = null;
    let live = true;
    setPreview(null);
    setError(null);
    const p = art.path;
    const kind = previewKind(art);
    if (kind === "binary") {
      setPreview({ kind: "binary" });
      return;
    }
    const headers: Record<string, string> = { Accept: "*/*" };
    if (kind !== "image" && art.size > PREVIEW_LIMIT) headers.Range = `bytes=0-${PREVIEW_LIMIT - 1}`;
    apiFetch(artifactUrl(runId, p), { headers })
      .then(async (res) => {
        if (kind === "image") {
          url = URL.createObjectURL(await res.blob());
          if (live) setPreview({ kind: "image", url });
          return;
        }
        const text = await res.text();
        if (!live) return;
        if (kind === "json") {
          try {
            setPreview({ kind: "json", text: JSON.stringify(JSON.parse(text), null, 2) });
            return;
          } catch {
            /* fall through to text */
          }
        }
        if (kind === "csv") setPreview({ kind: "csv", rows: parseCsv(text) });
        else setPreview({ kind: "text", text, truncated: art.size > PREVIEW_LIMIT });
      })
      .catch((e) => live && setError(e));
    return () => {
      live = false;
      if (url) URL.revokeObjectURL(url);
    };
  }, [runId, art]);
  if (error) return <ErrorBox error={error} />;
  if (!preview) return <div className="loading">loading preview…</div>;
  switch (preview.kind) {
    case "binary":
      return <div className="note">No preview for this file type; download it.</div>;
    case "image":
      return <img src={preview.url} alt={art.path} style={{ maxWidth: "100%", border: "1px solid var(--line)" }} />;
    case "json":
      return <pre className="code">{preview.text}</pre>;
    case "text":
      return (
        <>
          {preview.truncated ? <div className="note">Showing the first {fmtBytes(PREVIEW_LIMIT)}.</div> : null}
          <pre className="code">{preview.text}</pre>
        </>
      );
    case "csv":
      return (
        <div style={{ overflow: "auto", maxHeight: 600 }}>
          <table className="t" data-testid="csv-preview">
            <thead>
              <tr>{preview.rows[0]?.map((h, i) => <th key={i}>{h}</th>)}</tr>
            </thead>
            <tbody>
              {preview.rows.slice(1).map((r, i) => (
                <tr key={i}>
                  {r.map((c, j) => (
                    <td key={j} className="mono">{c}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      );
  }
}

export function ArtifactBrowser({ runId, artifacts, selected, onSelect }: {
  runId: string;
  artifacts: Artifact[];
  selected: string | null;
  onSelect: (path: string) => void;
}) {
  const [q, setQ] = useState("");
  const shown = useMemo(() => artifacts.filter((a) => a.path.toLowerCase().includes(q.toLowerCase())), [artifacts, q]);
  const art = artifacts.find((a) => a.path === selected) ?? null;
  if (artifacts.length === 0) return <div className="muted">This run logged no artifacts.</div>;
  return (
    <div style={{ display: "grid", gridTemplateColumns: "minmax(260px, 360px) 1fr", gap: 14 }}>
      <div>
        <input placeholder="filter paths" value={q} onChange={(e) => setQ(e.target.value)} style={{ width: "100%", marginBottom: 6 }} />
        <table className="t">
          <tbody>
            {shown.map((a) => (
              <tr key={a.path} className={a.path === selected ? "differs" : ""}>
                <td className="mono" style={{ wordBreak: "break-all" }}>
                  <a href="#" onClick={(e) => { e.preventDefault(); onSelect(a.path); }}>
                    {a.path}
                  </a>
                </td>
                <td className="num small muted">{fmtBytes(a.size)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div style={{ minWidth: 0 }}>
        {art ? (
          <>
            <div className="toolbar">
              <b className="mono">{art.path}</b>
              <span className="muted small">
                {fmtBytes(art.size)} · {fmtTime(art.created_at)} · sha256 {art.digest.slice(0, 12)}…
              </span>
              <button onClick={() => void downloadArtifact(runId, art.path)}>Download</button>
            </div>
            <PreviewView runId={runId} art={art} />
          </>
        ) : (
          <div className="muted">Choose a file to preview it.</div>
        )}
      </div>
    </div>
  );
}
