/** The run page's "Media" tab: one card per media name, each with a slider over its steps. */
import { useState } from "react";
import { useApi } from "../../lib/useApi";
import { Fetched, Note } from "../ui";
import { HistogramBars } from "./Histogram";
import { ImageOverlay } from "./ImageOverlay";
import { PlotlyLite, type PlotlyJson } from "./PlotlyLite";
import { hasFile, mediaFileUrl, type MediaItem, type MediaName } from "./types";

/** Cards drawn at first (each fetches its item): more come in pages, so a run with hundreds of names does
 * not send hundreds of requests at once. */
export const CARDS_PER_PAGE = 24;

export function MediaTab({ runId }: { runId: string }) {
  const names = useApi<MediaName[]>(`/runs/${encodeURIComponent(runId)}/media`);
  const [shown, setShown] = useState(CARDS_PER_PAGE);
  return (
    <Fetched state={names} what="media">
      {(list) =>
        list.length === 0 ? (
          <Note>
            No media. Log images, histograms and figures with <code>run.log_image</code>, <code>run.log_histogram</code> and{" "}
            <code>run.log_figure</code>.
          </Note>
        ) : (
          <>
            <div className="media-grid">
              {list.slice(0, shown).map((m) => (
                <MediaCard key={m.name} runId={runId} media={m} />
              ))}
            </div>
            {list.length > shown ? (
              <button type="button" onClick={() => setShown(shown + CARDS_PER_PAGE)}>
                Show {Math.min(CARDS_PER_PAGE, list.length - shown)} more of {list.length - shown}
              </button>
            ) : null}
          </>
        )
      }
    </Fetched>
  );
}

export function MediaCard({ runId, media }: { runId: string; media: MediaName }) {
  const [index, setIndex] = useState(media.steps.length - 1);
  const step = media.steps[Math.min(index, media.steps.length - 1)];
  const item = useApi<MediaItem>(`/runs/${encodeURIComponent(runId)}/media/${encodeURIComponent(media.name)}`, { step });
  return (
    <div className="panel media-card" data-testid={`media-${media.name}`}>
      <h3 style={{ marginTop: 0 }}>
        {media.name} <span className="sub">{media.kind}</span>
      </h3>
      {media.steps.length > 1 ? (
        <label className="media-step">
          step <b>{step}</b>
          <input
            type="range"
            min={0}
            max={media.steps.length - 1}
            value={index}
            aria-label={`step of ${media.name}`}
            onChange={(e) => setIndex(Number(e.target.value))}
          />
        </label>
      ) : (
        <div className="sub">step {step}</div>
      )}
      <Fetched state={item} what={media.name}>
        {(it) => <MediaBody runId={runId} item={it} />}
      </Fetched>
    </div>
  );
}

function MediaBody({ runId, item }: { runId: string; item: MediaItem }) {
  const url = (role: string) => mediaFileUrl(runId, item.name, role, item.step);
  if (item.kind === "image") {
    return (
      <ImageOverlay
        src={url("image")}
        width={item.meta.width ?? 1}
        height={item.meta.height ?? 1}
        boxes={item.meta.boxes}
        maskSrc={hasFile(item, "mask") ? url("mask") : null}
        maskLabels={item.meta.mask_labels}
        caption={item.meta.caption}
        alt={item.name}
      />
    );
  }
  if (item.kind === "histogram") {
    return <HistogramBars counts={item.meta.counts ?? []} edges={item.meta.edges ?? []} />;
  }
  if (hasFile(item, "svg") || hasFile(item, "png")) {
    // An SVG goes in an <img>: its scripts never run and it cannot reach anything (the server adds a CSP too).
    return (
      <figure className="media-figure">
        <img loading="lazy" src={url(hasFile(item, "svg") ? "svg" : "png")} alt={item.meta.caption ?? item.name} style={{ maxWidth: "100%" }} />
        {item.meta.caption ? <figcaption>{item.meta.caption}</figcaption> : null}
      </figure>
    );
  }
  if (hasFile(item, "plotly")) return <PlotlyFile runId={runId} item={item} />;
  return <div className="sub">Nothing to show.</div>;
}

function PlotlyFile({ runId, item }: { runId: string; item: MediaItem }) {
  const fig = useApi<PlotlyJson>(`/runs/${encodeURIComponent(runId)}/media/${encodeURIComponent(item.name)}/files/plotly`, { step: item.step });
  return (
    <Fetched state={fig} what="plotly figure">
      {(f) => (
        <>
          <PlotlyLite fig={f} />
          <a href={mediaFileUrl(runId, item.name, "plotly", item.step)} download={`${item.name}-${item.step}.json`}>
            plotly JSON
          </a>
        </>
      )}
    </Fetched>
  );
}
