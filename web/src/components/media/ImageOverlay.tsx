/**
 * An image with its boxes drawn as SVG over it (in the image's own pixel coordinates, so they scale with it)
 * and its class mask as a coloured, half-transparent layer that a checkbox shows or hides. The image and the
 * mask are <img>/<canvas> from their URLs; nothing from the server is put into the DOM as markup.
 */
import { useEffect, useRef, useState } from "react";
import { seriesColor } from "../../lib/colors";
import type { Box } from "./types";

export interface ImageOverlayProps {
  src: string;
  width: number;
  height: number;
  boxes?: Box[];
  maskSrc?: string | null;
  maskLabels?: Record<string, string>;
  caption?: string | null;
  alt?: string;
}

/** The colour of class `k` in a mask (class 0, the background, stays clear). */
export function classColor(k: number): [number, number, number, number] {
  if (k === 0) return [0, 0, 0, 0];
  const hex = seriesColor(k - 1);
  return [parseInt(hex.slice(1, 3), 16), parseInt(hex.slice(3, 5), 16), parseInt(hex.slice(5, 7), 16), 115];
}

/** Grayscale class numbers (read from the red channel) turned into colours, in place. */
export function colorizeMask(pixels: Uint8ClampedArray): Uint8ClampedArray {
  for (let i = 0; i < pixels.length; i += 4) {
    const [r, g, b, a] = classColor(pixels[i]);
    pixels[i] = r;
    pixels[i + 1] = g;
    pixels[i + 2] = b;
    pixels[i + 3] = a;
  }
  return pixels;
}

function MaskLayer({ src, width, height }: { src: string; width: number; height: number }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const img = new Image();
    img.onload = () => {
      const ctx = canvas.current?.getContext("2d");
      if (!ctx) return;
      ctx.imageSmoothingEnabled = false;
      ctx.drawImage(img, 0, 0, width, height);
      const data = ctx.getImageData(0, 0, width, height);
      colorizeMask(data.data);
      ctx.putImageData(data, 0, 0);
    };
    img.src = src;
    return () => {
      img.onload = null;
    };
  }, [src, width, height]);
  return <canvas ref={canvas} className="media-mask" data-testid="mask-layer" width={width} height={height} />;
}

export function ImageOverlay({ src, width, height, boxes = [], maskSrc, maskLabels = {}, caption, alt }: ImageOverlayProps) {
  const [showMask, setShowMask] = useState(true);
  const [showBoxes, setShowBoxes] = useState(true);
  const labels = [...new Set(boxes.map((b) => b.label))];
  return (
    <figure className="media-image">
      <div className="media-stack" style={{ aspectRatio: `${width} / ${height}` }}>
        <img loading="lazy" src={src} alt={alt ?? caption ?? "image"} width={width} height={height} style={{ imageRendering: width < 64 ? "pixelated" : "auto" }} />
        {maskSrc && showMask ? <MaskLayer src={maskSrc} width={width} height={height} /> : null}
        {boxes.length > 0 && showBoxes ? (
          <>
            <svg className="media-boxes" viewBox={`0 0 ${width} ${height}`} preserveAspectRatio="none" data-testid="box-layer">
              {boxes.map((b, i) => (
                <rect
                  key={i}
                  data-label={b.label}
                  x={b.x}
                  y={b.y}
                  width={b.w}
                  height={b.h}
                  fill="none"
                  stroke={seriesColor(Math.max(0, labels.indexOf(b.label)))}
                  strokeWidth={2}
                  vectorEffect="non-scaling-stroke"
                />
              ))}
            </svg>
            {/* Labels as HTML at the boxes' corners (in percent), so their size does not scale with the image. */}
            <div className="media-labels">
              {boxes.map((b, i) =>
                b.label || b.score !== undefined ? (
                  <span
                    key={i}
                    className="media-box-label"
                    style={{ left: `${(100 * b.x) / width}%`, top: `${(100 * b.y) / height}%`, background: seriesColor(Math.max(0, labels.indexOf(b.label))) }}
                  >
                    {b.score === undefined ? b.label : `${b.label} ${b.score.toFixed(2)}`}
                  </span>
                ) : null,
              )}
            </div>
          </>
        ) : null}
      </div>
      <figcaption>
        {caption ? <span>{caption}</span> : null}
        {boxes.length > 0 ? (
          <label>
            <input type="checkbox" checked={showBoxes} onChange={(e) => setShowBoxes(e.target.checked)} /> boxes ({boxes.length})
          </label>
        ) : null}
        {maskSrc ? (
          <label>
            <input type="checkbox" checked={showMask} onChange={(e) => setShowMask(e.target.checked)} aria-label="mask" /> mask
          </label>
        ) : null}
        {maskSrc && showMask
          ? Object.entries(maskLabels)
              .filter(([k]) => Number(k) !== 0)
              .map(([k, label]) => {
                const [r, g, b] = classColor(Number(k));
                return (
                  <span key={k} className="media-legend" data-class={k}>
                    <i style={{ background: `rgb(${r}, ${g}, ${b})` }} /> {label}
                  </span>
                );
              })
          : null}
      </figcaption>
    </figure>
  );
}
