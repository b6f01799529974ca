"""Frame step in the browser editor: fetch and display of the ~120k-point KITTI odometry demo sweeps.

    .venv/bin/python benchmarks/bench_web_frame_step.py [--dwell-ms MS] [--json OUT] [--keep-home]

Sets up the demo (``labelpilot demo --no-serve``) in a temporary LABELPILOT_HOME, serves it with
``labelpilot serve`` on a free loopback port, gives the demo annotator a task on the odometry scene
and opens it in the editor in headless chromium (/usr/bin/chromium; WebGL through SwiftShader, a
software renderer, so a machine with a GPU draws faster). Each step calls the editor's
``controller.nextFrame()`` / ``prevFrame()`` (what the arrow keys do, through the ``?debug=1`` hook)
and lasts until the animation frame after the scene view has drawn the new sweep (its
``scene-rendered`` event): fetch, decode, the ego transform, the buffer upload, the draw and every
other view's update of that step.

Three passes over the 30 sweeps:
1. cold, back to back: a fresh browser context, 0 -> 29, each step as soon as the last is shown,
   so most steps wait for the network (the prefetch of the next frames has no time);
2. cold, at a person's pace: a fresh context, ``--dwell-ms`` between steps, so the prefetch of the
   neighbouring frames has the next sweep ready;
3. warm: the same context back 29 -> 0, every sweep in the cache: display only.
Prints the median and p95 of each pass and of the sweeps' fetch and decode times. Everything
started (server, browser, temporary home) is stopped or removed on exit.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2
import numpy as np
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--enable-unsafe-swiftshader"]
LABELPILOT = Path(sys.executable).parent / "labelpilot"
ODOMETRY_SCENE = "KITTI odometry 00"
ANNOTATOR = "annotator"
STARTUP_S = 60.0
STEP_TIMEOUT_MS = 30_000

# Runs in the page: one step after another, each timed from the call to the animation frame
# after the scene view's render of the new frame.
STEP_SCRIPT = """
async ({ steps, direction, dwellMs, timeoutMs }) => {
  const editor = window.labelpilot;
  const view = document.getElementById('scene-view');
  const results = [];
  for (let k = 0; k < steps; k++) {
    const target = editor.model.frameIndex + direction;
    const shown = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`frame ${target} was not shown`)), timeoutMs);
      const listener = (event) => {
        if (event.detail.frame !== target) return;
        view.removeEventListener('scene-rendered', listener);
        clearTimeout(timer);
        resolve(event.detail);
      };
      view.addEventListener('scene-rendered', listener);
    });
    const started = performance.now();
    if (direction > 0) editor.controller.nextFrame();
    else editor.controller.prevFrame();
    const detail = await shown;
    await new Promise((resolve) => requestAnimationFrame(() => resolve(null)));
    results.push({ ...detail, stepMs: performance.now() - started });
    if (dwellMs) await new Promise((resolve) => setTimeout(resolve, dwellMs));
  }
  return results;
}
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LABELPILOT_")}
    env["LABELPILOT_HOME"] = str(home)
    return env


@contextmanager
def demo_server(home: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """The demo served from ``home``: its URL and the demo logins; stopped on exit."""
    env = _env(home)
    subprocess.run([str(LABELPILOT), "demo", "--no-serve"], env=env, check=True, capture_output=True)
    logins = {row["name"]: row["password"] for row in json.loads((home / "demo-logins.json").read_text())}
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    with (home / "server.log").open("wb") as log:
        process = subprocess.Popen(
            [str(LABELPILOT), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + STARTUP_S
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"labelpilot serve exited: {(home / 'server.log').read_text()}")
            try:
                if httpx2.get(f"{url}/api/health", timeout=2.0).status_code == 200:
                    break
            except httpx2.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"labelpilot serve did not answer within {STARTUP_S:.0f} s")
            time.sleep(0.2)
        yield url, logins
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def odometry_task(url: str, logins: dict[str, str]) -> tuple[int, int]:
    """A task of the demo annotator on the odometry scene (made by the demo manager): task id, frames."""
    with httpx2.Client(base_url=url, timeout=30.0) as manager:
        answer = manager.post("/api/auth/login", json={"name": "manager", "password": logins["manager"]})
        answer.raise_for_status()
        manager.headers["X-CSRF-Token"] = answer.json()["csrf_token"]
        project = next(p for p in manager.get("/api/projects").json() if p["name"] == "demo")
        scenes = manager.get(f"/api/projects/{project['id']}/scenes").json()
        scene = next(s for s in scenes if s["name"].startswith(ODOMETRY_SCENE))
        body = {"scene_id": scene["id"], "assignee": ANNOTATOR, "layer": "bench"}
        created = manager.post(f"/api/projects/{project['id']}/tasks", json=body)
        created.raise_for_status()
        return int(created.json()["id"]), int(scene["frame_count"])


def open_editor(browser: Browser, url: str, password: str, task_id: int) -> tuple[BrowserContext, Page]:
    """A fresh context (empty HTTP cache), logged in, on the editor with frame 0 drawn."""
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    login = page.request.post(f"{url}/api/auth/login", data={"name": ANNOTATOR, "password": password})
    assert login.ok, login.text()
    page.goto(f"{url}/editor?task={task_id}&debug=1")
    page.wait_for_selector("body[data-editor-ready='true']", state="attached", timeout=STEP_TIMEOUT_MS)
    page.wait_for_selector("#scene-view[data-frame='0']", state="attached", timeout=STEP_TIMEOUT_MS)
    if errors:
        raise RuntimeError(f"the editor failed: {errors}")
    return context, page


def steps(page: Page, count: int, direction: int, dwell_ms: int) -> list[dict[str, Any]]:
    args = {"steps": count, "direction": direction, "dwellMs": dwell_ms, "timeoutMs": STEP_TIMEOUT_MS}
    results: list[dict[str, Any]] = page.evaluate(STEP_SCRIPT, args)
    return results


def summary(results: list[dict[str, Any]]) -> dict[str, float]:
    step = np.array([r["stepMs"] for r in results])
    fetched = [r for r in results if not r["cached"]]
    out = {
        "steps": float(len(results)),
        "median_ms": float(np.median(step)),
        "p95_ms": float(np.percentile(step, 95)),
        "max_ms": float(step.max()),
        "waited_for_network": float(len(fetched)),
        "points_median": float(np.median([r["points"] for r in results])),
    }
    if fetched:
        out["fetch_median_ms"] = float(np.median([r["fetchMs"] for r in fetched]))
        out["decode_median_ms"] = float(np.median([r["decodeMs"] for r in fetched]))
    return out


def webgl_renderer(page: Page) -> str:
    """The browser's WebGL renderer (SwiftShader: software)."""
    name: str = page.evaluate(
        """() => {
          const gl = document.createElement('canvas').getContext('webgl2');
          const info = gl && gl.getExtension('WEBGL_debug_renderer_info');
          return gl ? String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER)) : 'none';
        }"""
    )
    return name


def print_report(passes: dict[str, dict[str, float]], renderer: str) -> None:
    print("frame step (fetch + display) in headless chromium, KITTI odometry demo sweeps")
    print(f"WebGL renderer: {renderer}; {os.cpu_count()} CPUs")
    header = (
        f"{'pass':<34}{'steps':>6}{'median ms':>11}{'p95 ms':>9}{'max ms':>9}{'fetched':>9}{'fetch ms':>10}"
    )
    print(header)
    for name, s in passes.items():
        fetch = f"{s['fetch_median_ms']:10.1f}" if "fetch_median_ms" in s else f"{'-':>10}"
        print(
            f"{name:<34}{s['steps']:6.0f}{s['median_ms']:11.1f}{s['p95_ms']:9.1f}"
            f"{s['max_ms']:9.1f}{s['waited_for_network']:9.0f}{fetch}"
        )
    points = next(iter(passes.values()))["points_median"]
    print(f"points per sweep (median): {points:.0f}; 'fetched': steps that waited for the network")


def run(dwell_ms: int, keep_home: bool) -> tuple[dict[str, dict[str, float]], str]:
    home = Path(tempfile.mkdtemp(prefix="labelpilot-bench-web-"))
    try:
        with demo_server(home) as (url, logins), sync_playwright() as playwright:
            task_id, frames = odometry_task(url, logins)
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            try:
                context, page = open_editor(browser, url, logins[ANNOTATOR], task_id)
                renderer = webgl_renderer(page)
                cold_fast = steps(page, frames - 1, +1, 0)
                context.close()
                context, page = open_editor(browser, url, logins[ANNOTATOR], task_id)
                cold_paced = steps(page, frames - 1, +1, dwell_ms)
                warm = steps(page, frames - 1, -1, 0)
                context.close()
            finally:
                browser.close()
        passes = {
            "cold, back to back": summary(cold_fast),
            f"cold, {dwell_ms} ms between steps": summary(cold_paced),
            "warm (cached), back to back": summary(warm),
        }
        return passes, renderer
    finally:
        if keep_home:
            print(f"kept {home}")
        else:
            shutil.rmtree(home, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dwell-ms", type=int, default=250, help="pause between steps of the paced pass")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--keep-home", action="store_true", help="keep the temporary LABELPILOT_HOME")
    args = parser.parse_args()
    passes, renderer = run(args.dwell_ms, args.keep_home)
    print_report(passes, renderer)
    if args.json:
        args.json.write_text(json.dumps({"webgl_renderer": renderer, "passes": passes}, indent=2) + "\n")


if __name__ == "__main__":
    main()
