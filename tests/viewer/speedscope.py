#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
# Copyright (c) 2026 The gcscope authors
"""Open a Chrome trace-event file in speedscope, in headless Chromium, and
say what speedscope shows: one profile per (pid, tid), named by the
process_name/thread_name metadata, with its total weight (the sum of the
collections' durations).

speedscope comes from the npm registry into ~/.cache/gcscope/npm (kept
across runs, outside the repo); Chromium and python3-websocket are Debian
packages (tests/deps.sh).  speedscope's static build and the trace are
served on 127.0.0.1 (http.server, a free port) and loaded through
speedscope's #profileURL=; the page is driven over the DevTools protocol.
A file speedscope cannot import makes it open an alert: that is a failure.

usage: speedscope.py TRACE [--screenshot PNG] [--size WxH] [--timeout S]
prints {"title": ..., "profiles": [{"name": ..., "weight": ...}, ...]} or
exits 1 with the reason.
"""
import argparse
import base64
import functools
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

SPEEDSCOPE_VERSION = "1.25.0"
CACHE = os.path.join(os.path.expanduser("~"), ".cache", "gcscope", "npm")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# the emoji font: speedscope's toolbar icons
PACKAGES = ["chromium", "python3-websocket", "fonts-noto-color-emoji"]


class ViewerError(Exception):
    pass


def speedscope_dir():
    """speedscope's static build (index.html), installed once per version."""
    prefix = os.path.join(CACHE, "speedscope-" + SPEEDSCOPE_VERSION)
    release = os.path.join(prefix, "node_modules", "speedscope", "dist", "release")
    if not os.path.exists(os.path.join(release, "index.html")):
        if not shutil.which("npm"):
            subprocess.run([os.path.join(REPO, "tests", "deps.sh"), "npm"], check=True)
        os.makedirs(prefix, exist_ok=True)
        subprocess.run(["npm", "install", "--prefix", prefix, "--no-audit", "--no-fund",
                        "--no-save", "--no-update-notifier", "--loglevel=error",
                        "speedscope@" + SPEEDSCOPE_VERSION],
                       check=True, stdout=subprocess.DEVNULL)
    return release


def ensure_packages():
    subprocess.run([os.path.join(REPO, "tests", "deps.sh"), *PACKAGES], check=True)


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class Server:
    """speedscope under /speedscope/ and the trace as /trace.json, on 127.0.0.1."""

    def __init__(self, trace):
        self.dir = tempfile.mkdtemp(prefix="gcscope-viewer-")
        os.symlink(speedscope_dir(), os.path.join(self.dir, "speedscope"))
        shutil.copy(trace, os.path.join(self.dir, "trace.json"))
        handler = functools.partial(Quiet, directory=self.dir)
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self):
        profile = urllib.parse.quote(f"http://127.0.0.1:{self.port}/trace.json", safe="")
        return f"http://127.0.0.1:{self.port}/speedscope/index.html#profileURL={profile}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        shutil.rmtree(self.dir, ignore_errors=True)


class Browser:
    """Headless Chromium with one page, driven over the DevTools protocol."""

    def __init__(self, width=1200, height=700, timeout=30):
        import websocket            # python3-websocket, after ensure_packages()

        self.profile = tempfile.mkdtemp(prefix="gcscope-chromium-")
        self.proc = subprocess.Popen(
            ["chromium", "--headless=new", "--no-sandbox", "--disable-gpu-sandbox",
             "--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--no-first-run",
             "--disable-extensions", "--disable-background-networking", "--hide-scrollbars",
             f"--window-size={width},{height}", "--remote-debugging-address=127.0.0.1",
             "--remote-debugging-port=0", f"--user-data-dir={self.profile}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = os.path.join(self.profile, "DevToolsActivePort")
        end = time.time() + timeout
        while not os.path.exists(port_file) or not open(port_file).read().strip():
            if self.proc.poll() is not None or time.time() > end:
                self.close()
                raise ViewerError("chromium did not start")
            time.sleep(0.1)
        port = int(open(port_file).read().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=timeout) as r:
            page = [t for t in json.load(r) if t["type"] == "page"][0]
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=timeout,
                                              suppress_origin=True)
        self.next_id = 0
        self.dialogs, self.exceptions = [], []

    def _event(self, msg):
        if msg.get("method") == "Page.javascriptDialogOpening":
            self.dialogs.append(msg["params"]["message"])
            self.send("Page.handleJavaScriptDialog", accept=True, wait=False)
        elif msg.get("method") == "Runtime.exceptionThrown":
            d = msg["params"]["exceptionDetails"]
            self.exceptions.append(d.get("exception", {}).get("description") or d.get("text"))

    def send(self, method, wait=True, **params):
        self.next_id += 1
        mid = self.next_id
        self.ws.send(json.dumps({"id": mid, "method": method, "params": params}))
        while wait:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == mid:
                if "error" in msg:
                    raise ViewerError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self._event(msg)
        return None

    def eval(self, expr):
        r = self.send("Runtime.evaluate", expression=expr, returnByValue=True)
        if "exceptionDetails" in r:
            raise ViewerError(f"evaluate: {r['exceptionDetails']}")
        return r["result"].get("value")

    def screenshot(self, path):
        data = self.send("Page.captureScreenshot", format="png")["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    def close(self):
        try:
            self.ws.close()
        except Exception:
            pass
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.profile, ignore_errors=True)


# speedscope's profile selector: a table of every profile (hidden until the
# toolbar's title is clicked), one row per thread with its name as title and
# its total weight in the last cell.  Its class names are generated, so the
# structure is what is read.
STATE_JS = """(() => {
  const rows = [...document.querySelectorAll('tbody tr[title]')].map(tr => {
    const td = tr.querySelectorAll('td');
    return {name: tr.title, weight: td.length ? td[td.length - 1].textContent : null};
  });
  const canvas = document.querySelector('canvas');
  return JSON.stringify({title: document.title, profiles: rows,
                         canvas: canvas ? [canvas.width, canvas.height] : null,
                         text: document.body ? document.body.innerText.slice(0, 400) : ''});
})()"""

# Where the toolbar's title is ("NAME (1/N)"): a click there opens the
# profile selector, so that a screenshot shows every thread.
TITLE_RECT_JS = """(() => {
  const span = [...document.querySelectorAll('span')].find(s => /\\(1\\/\\d+\\)$/.test(s.textContent));
  if (!span) return null;
  const r = span.getBoundingClientRect();
  return [r.x + r.width / 2, r.y + r.height / 2];
})()"""


def click(browser, x, y):
    for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
        browser.send("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)


def load(trace, screenshot=None, timeout=30, open_selector=True, size=(1200, 700)):
    """What speedscope shows of TRACE; ViewerError if it does not load."""
    ensure_packages()
    server = Server(trace)
    browser = None
    try:
        browser = Browser(width=size[0], height=size[1], timeout=timeout)
        browser.send("Page.enable")
        browser.send("Runtime.enable")
        browser.send("Page.navigate", url=server.url())
        end = time.time() + timeout
        state = None
        while time.time() < end:
            state = json.loads(browser.eval(STATE_JS))
            if browser.dialogs:
                raise ViewerError(f"speedscope could not load the file: {browser.dialogs[0]!r}"
                                  + (f" ({browser.exceptions[0]})" if browser.exceptions else ""))
            if state["profiles"]:
                break
            time.sleep(0.2)
        else:
            raise ViewerError(f"speedscope showed no profile in {timeout}s: {state}")
        if screenshot:
            xy = browser.eval(TITLE_RECT_JS) if open_selector else None
            if xy:
                click(browser, *xy)
            time.sleep(0.5)     # a frame for the flame chart's canvas
            browser.screenshot(screenshot)
        del state["text"]
        return state
    finally:
        if browser:
            browser.close()
        server.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("trace")
    ap.add_argument("--screenshot", metavar="PNG")
    ap.add_argument("--timeout", type=float, default=30)
    ap.add_argument("--size", default="1200x700", help="window WIDTHxHEIGHT")
    args = ap.parse_args()
    try:
        size = tuple(int(n) for n in args.size.split("x"))
        print(json.dumps(load(args.trace, args.screenshot, args.timeout, size=size), indent=1))
    except ViewerError as e:
        print(f"speedscope.py: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
