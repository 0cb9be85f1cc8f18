import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { CARDS_PER_PAGE, MediaTab } from "../components/media/MediaTab";
import { ImageOverlay, classColor, colorizeMask } from "../components/media/ImageOverlay";
import { HistogramBars } from "../components/media/Histogram";
import { PlotlyLite } from "../components/media/PlotlyLite";
import { mediaFileUrl } from "../components/media/types";

const boxes = [
  { x: 1, y: 2, w: 3, h: 4, label: "cat", score: 0.9 },
  { x: 0, y: 0, w: 8, h: 1, label: "dog" },
];

describe("image overlay", () => {
  it("draws each box in the image's pixel coordinates, labelled with its score", () => {
    const { container } = render(<ImageOverlay src="/i.png" width={8} height={6} boxes={boxes} />);
    const svg = screen.getByTestId("box-layer");
    expect(svg.getAttribute("viewBox")).toBe("0 0 8 6");
    const rects = container.querySelectorAll("svg.media-boxes rect");
    expect(rects).toHaveLength(2);
    expect([rects[0].getAttribute("x"), rects[0].getAttribute("y"), rects[0].getAttribute("width"), rects[0].getAttribute("height")]).toEqual(["1", "2", "3", "4"]);
    expect(rects[0].getAttribute("stroke")).not.toBe(rects[1].getAttribute("stroke")); // one colour per label
    const tags = container.querySelectorAll(".media-box-label");
    expect(Array.from(tags).map((t) => t.textContent)).toEqual(["cat 0.90", "dog"]);
    expect((tags[0] as HTMLElement).style.left).toBe("12.5%"); // x 1 of 8
    expect((tags[0] as HTMLElement).style.top).toBe(`${(100 * 2) / 6}%`);
    expect(container.querySelector("img")!.getAttribute("src")).toBe("/i.png");
  });

  it("hides boxes and the mask with their toggles, and shows the mask's legend without the background", () => {
    render(
      <ImageOverlay src="/i.png" width={8} height={6} boxes={boxes} maskSrc="/m.png" maskLabels={{ "0": "background", "2": "road" }} />,
    );
    expect(screen.getByTestId("mask-layer")).toBeInTheDocument();
    expect(screen.getByText("road")).toBeInTheDocument();
    expect(screen.queryByText("background")).toBeNull();
    fireEvent.click(screen.getByLabelText("mask"));
    expect(screen.queryByTestId("mask-layer")).toBeNull();
    expect(screen.queryByText("road")).toBeNull();
    fireEvent.click(screen.getByText(/boxes \(2\)/).querySelector("input")!);
    expect(screen.queryByTestId("box-layer")).toBeNull();
  });

  it("colours mask classes, leaving class 0 clear", () => {
    const px = new Uint8ClampedArray([0, 0, 0, 255, 2, 2, 2, 255]);
    colorizeMask(px);
    expect(Array.from(px.slice(0, 4))).toEqual([0, 0, 0, 0]);
    expect(Array.from(px.slice(4))).toEqual(classColor(2));
    expect(classColor(2)[3]).toBeGreaterThan(0);
    expect(classColor(1)).not.toEqual(classColor(2));
  });

  it("builds file URLs with the step", () => {
    expect(mediaFileUrl("r1", "a.b", "image", 3)).toBe("/api/v1/runs/r1/media/a.b/files/image?step=3");
  });
});

describe("histogram and plotly", () => {
  it("draws one bar per bin, the tallest reaching the top", () => {
    const { container } = render(<HistogramBars counts={[1, 4, 2]} edges={[0, 1, 2, 3]} width={300} height={118} />);
    const bars = container.querySelectorAll("rect");
    expect(bars).toHaveLength(3);
    expect(Number(bars[1].getAttribute("y"))).toBe(0);
    expect(Number(bars[1].getAttribute("height"))).toBe(100);
    expect(Number(bars[0].getAttribute("height"))).toBe(25);
  });

  it("draws scatter and bar traces and names the rest", () => {
    const fig = {
      data: [
        { type: "scatter", mode: "lines+markers", x: [1, 2, 3], y: [3, 1, 2], name: "loss" },
        { type: "bar", x: [1, 2, 3], y: [1, 1, 1], name: "n" },
        { type: "heatmap", z: [[1]], y: [0] },
      ],
      layout: { title: { text: "curves" } },
    };
    const { container } = render(<PlotlyLite fig={fig} />);
    expect(container.querySelector("polyline")!.getAttribute("points")!.split(" ")).toHaveLength(3);
    expect(container.querySelectorAll("circle")).toHaveLength(3);
    expect(container.querySelectorAll('rect[data-trace="1"]')).toHaveLength(3);
    expect(container.textContent).toContain("curves");
    expect(container.textContent).toContain("Not drawn here: heatmap");
  });
});

describe("plotly ranges", () => {
  it("gives a line its own y range, and bars a range from 0", () => {
    const line = render(<PlotlyLite fig={{ data: [{ type: "scatter", x: [0, 1], y: [0.9, 0.95] }] }} />);
    const pts = line.container.querySelector("polyline")!.getAttribute("points")!.split(" ").map((p) => Number(p.split(",")[1]));
    expect(pts[0] - pts[1]).toBeGreaterThan(100); // the rise of 0.05 spans the plot's height
    const bars = render(<PlotlyLite fig={{ data: [{ type: "bar", x: ["a", "b"], y: [0.9, 0.95] }] }} />);
    const heights = Array.from(bars.container.querySelectorAll("rect[data-trace]")).map((r) => Number(r.getAttribute("height")));
    expect(heights[0] / heights[1]).toBeCloseTo(0.9 / 0.95, 3);
  });
});

describe("media tab", () => {
  it("draws a page of cards, each asking for its last step, and the slider asks for another step", async () => {
    const names = Array.from({ length: CARDS_PER_PAGE + 2 }, (_, i) => ({ name: `h${String(i).padStart(2, "0")}`, kind: "histogram", steps: [0, 5] }));
    const urls: string[] = [];
    global.fetch = vi.fn(async (url: RequestInfo | URL) => {
      const u = String(url);
      urls.push(u);
      const body = u.endsWith("/media")
        ? names
        : { run_id: "r", name: u.split("/media/")[1].split("?")[0], step: Number(new URL(u, "http://x").searchParams.get("step")), kind: "histogram", files: [], meta: { counts: [1, 2], edges: [0, 1, 2] }, created_at: 0 };
      return new Response(JSON.stringify(body), { status: 200, headers: { "Content-Type": "application/json" } });
    }) as typeof fetch;
    render(<MediaTab runId="r" />);
    await screen.findByTestId("media-h00");
    await waitFor(() => expect(urls.filter((u) => u.includes("/media/")).length).toBe(CARDS_PER_PAGE));
    expect(urls.filter((u) => u.includes("/media/h00"))[0]).toContain("step=5");
    expect(screen.queryByTestId(`media-h${CARDS_PER_PAGE}`)).toBeNull();
    fireEvent.change(screen.getByLabelText("step of h00"), { target: { value: "0" } });
    await waitFor(() => expect(urls.some((u) => u.includes("/media/h00?step=0"))).toBe(true));
    fireEvent.click(screen.getByText("Show 2 more of 2"));
    await screen.findByTestId(`media-h${CARDS_PER_PAGE + 1}`);
  });
});
