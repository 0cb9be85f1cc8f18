"""The Playwright harness of benchmarks/ui_speed.py: Debian's Chromium, headless, marks set in the page.

Every figure is taken inside the page with ``performance.now()`` (milliseconds since the navigation
started). An init script runs a ``requestAnimationFrame`` loop that evaluates the conditions in
``window.__bench.watch``; the first frame in which a condition holds queues a task, and the time that task
runs is the mark: the frame that shows the state has been painted by then. For an action (a click on a
header, Enter in a filter box) the start is the event's own ``timeStamp``, taken by a capture listener.
"""

from __future__ import annotations

import gzip
import json
import statistics
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
VIEWPORT = {"width": 1600, "height": 1000}

INIT_SCRIPT = """
(() => {
  const b = { marks: {}, watch: {}, start: {}, frames: 0, blank: [] };
  window.__bench = b;
  const loop = () => {
    b.frames++;
    for (const name of Object.keys(b.watch)) {
      if (name in b.marks) continue;
      let ok = false;
      try { ok = !!b.watch[name](); } catch (e) { ok = false; }
      if (ok) { b.marks[name] = -1; setTimeout(() => { b.marks[name] = performance.now(); }, 0); }
    }
    if (b.probe) { try { b.blank.push(b.probe()); } catch (e) { b.blank.push(-1); } }
    requestAnimationFrame(loop);
  };
  requestAnimationFrame(loop);
  // The start of an action: the timeStamp of the first click or Enter after window.__bench.arm(name).
  b.arm = (name) => { b.armed = name; delete b.marks[name]; delete b.start[name]; };
  const take = (e) => { if (b.armed) { b.start[b.armed] = e.timeStamp; b.armed = null; } };
  document.addEventListener('click', take, true);
  document.addEventListener('keydown', (e) => { if (e.key === 'Enter') take(e); }, true);
  %s
})();
"""


@dataclass
class Samples:
    """Repetitions of one figure, in milliseconds (or a count)."""

    label: str
    unit: str = "ms"
    values: list[float] = field(default_factory=list)
    note: str = ""

    def add(self, value: float) -> None:
        self.values.append(value)

    def summary(self) -> str:
        if not self.values:
            return f"not measured{': ' + self.note if self.note else ''}"
        if self.unit == "ms":
            return (
                f"median {statistics.median(self.values):.0f} ms, max {max(self.values):.0f} ms"
                f" ({len(self.values)} runs)"
            )
        return f"{self.values[0]:g} {self.unit}" if len(self.values) == 1 else f"{self.values} {self.unit}"


@contextmanager
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        raise SystemExit("no /usr/bin/chromium (apt-get install -y chromium)")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        try:
            yield b
        finally:
            b.close()


@contextmanager
def fresh_page(b: Any, watch_js: str = "") -> Iterator[Any]:
    """A page in a new context (empty cache, like a first visit) with the timing loop installed;
    ``watch_js`` is JavaScript run by the init script, e.g. ``b.watch.row = () => …;``."""
    context = b.new_context(viewport=VIEWPORT)
    context.add_init_script(INIT_SCRIPT % watch_js)
    page = context.new_page()
    page.set_default_timeout(120_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        yield page
    finally:
        context.close()
    if errors:
        print(f"  (errors in the page: {errors[:3]})")


def wait_mark(page: Any, name: str, timeout_ms: float = 120_000) -> float:
    """The mark's time (ms since navigation start) once it is set."""
    page.wait_for_function(f"() => (window.__bench.marks[{json.dumps(name)}] ?? -1) > 0", timeout=timeout_ms)
    return float(page.evaluate(f"() => window.__bench.marks[{json.dumps(name)}]"))


def action_ms(page: Any, name: str) -> float:
    """Milliseconds from the armed action's event to its mark."""
    end = wait_mark(page, name)
    start = page.evaluate(f"() => window.__bench.start[{json.dumps(name)}]")
    if start is None:
        raise RuntimeError(f"no click or Enter was seen for {name}")
    return end - float(start)


def api_timings(page: Any) -> list[tuple[str, float, float]]:
    """(url path, start ms, end ms) of the page's requests to an API, from the resource timing buffer."""
    entries = page.evaluate(
        "() => performance.getEntriesByType('resource').map(e => [e.name, e.startTime, e.responseEnd])"
    )
    out = []
    for name, start, end in entries:
        path = name.split("//", 1)[-1].split("/", 1)[-1]
        if "api" in path.split("?")[0]:
            out.append(("/" + path, float(start), float(end)))
    return out


def script_bytes(b: Any, url: str, watch_js: str, mark: str) -> list[tuple[str, int, int]]:
    """(url, raw bytes, gzip -6 bytes) of every script and stylesheet the page at ``url`` loads until
    ``mark`` is set (the first page: its own chunks, not the lazily loaded chunks of other pages)."""
    seen: list[tuple[str, int, int]] = []
    with fresh_page(b, watch_js) as page:
        bodies: list[Any] = []
        page.on(
            "response",
            lambda r: bodies.append(r) if r.request.resource_type in ("script", "stylesheet") else None,
        )
        page.goto(url)
        wait_mark(page, mark)
        for r in bodies:
            body = r.body()
            seen.append((r.url, len(body), len(gzip.compress(body, compresslevel=6))))
    return seen


# A probe for the blank-rows count: row slots of the scrolling element's visible area (below its header)
# whose centre shows no row. Filled in with (container selector, header selector, row selector, row px).
BLANK_PROBE = """
(() => {
  const box = document.querySelector(%s);
  if (!box) return -1;
  const head = document.querySelector(%s);
  const r = box.getBoundingClientRect();
  const top = Math.max(r.top, head ? head.getBoundingClientRect().bottom : r.top);
  const bottom = Math.min(r.bottom, window.innerHeight) - 2;
  let blank = 0;
  for (let y = top + %d / 2; y < bottom; y += %d) {
    const el = document.elementFromPoint(r.left + 80, y);
    const row = el && el.closest(%s);
    if (!row || !row.textContent.trim()) blank++;
  }
  return blank;
})
"""


def install_blank_probe(page: Any, container: str, header: str, row: str, row_px: int) -> None:
    js = BLANK_PROBE % (json.dumps(container), json.dumps(header), row_px, row_px, json.dumps(row))
    page.evaluate(f"() => {{ window.__bench.blank = []; window.__bench.probe = {js}; }}")


def take_blank(page: Any) -> list[int]:
    """The blank-slot counts of every frame since the probe was installed (and clear them)."""
    return [int(x) for x in page.evaluate("() => window.__bench.blank.splice(0)")]


def wait_healthy(url: str, process: subprocess.Popen[bytes], *, timeout: float, every: float) -> None:
    """Return once ``url`` answers 200; exit if ``process`` ends or ``timeout`` seconds pass first."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the server behind {url} did not start")
        time.sleep(every)


def scroll_blanks(
    page: Any, container: str, header: str, row: str, row_px: int
) -> tuple[tuple[int, int, int], list[float]]:
    """Wheel down through the loaded rows of ``container``, then jump its scrollbar to 10, 50, 90 and
    100 %: (frames with a blank row slot, frames, rows reached), and the most blank slots after each jump."""
    install_blank_probe(page, container, header, row, row_px)
    box = page.locator(container).bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    for _ in range(60):
        page.mouse.wheel(0, 400)
        page.wait_for_timeout(16)
    page.wait_for_timeout(300)
    frames = take_blank(page)
    reached = page.evaluate(f"(s) => Math.round(document.querySelector(s).scrollTop / {row_px})", container)
    jumps = []
    for f in (0.1, 0.5, 0.9, 1.0):
        page.evaluate(
            "([s, f]) => { const t = document.querySelector(s);"
            " t.scrollTop = f * (t.scrollHeight - t.clientHeight); }",
            [container, f],
        )
        page.wait_for_timeout(200)
        jumps.append(float(max(take_blank(page)[:6] or [0])))
    return (sum(1 for x in frames if x > 0), len(frames), int(reached)), jumps
