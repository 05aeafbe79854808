"""A real web page on another loopback port tries to drive Switchboard (docs/security.md, 1).

MiniBrowser (WebKitGTK), driven by WebKitWebDriver, opens a page served by Python's
http.server on its own 127.0.0.1 port. Its script `fetch`es the owner's control endpoint, the
gateway and the knowledge base over HTTP: simple GETs, POSTs with a JSON body, the same with
`credentials: 'include'`, with a guessed `Authorization` header, and `no-cors` POSTs (which a
browser sends without a preflight). It writes what it could see into the DOM. Asserted: the page
read no answer from any of them (every cross-origin fetch threw or was opaque), while a fetch of
its own origin is readable (so the script did run); and nothing happened: the server it tried to
stop runs as the same process, the owner was not asked to quit, the gateway recorded no call.
"""

import http.server
import json
import os
import re
import socket
import socketserver
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.common.options import ArgOptions

from conftest import CLI, FIXTURE, free_port, wait_for

# Shipped with libwebkit2gtk-4.1-0, which the app itself needs; WebKitWebDriver (webkit2gtk-driver)
# is what tauri-driver drives too.
MINIBROWSER = Path("/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser")

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>evil</title></head>
<body><pre id="results">running</pre>
<script>
const targets = TARGETS;
const ATTEMPTS = [
  ["get", {}],
  ["get-credentials", {credentials: "include"}],
  ["post-json", {method: "POST", headers: {"Content-Type": "application/json"}, body: "BODY"}],
  ["post-json-credentials", {method: "POST", credentials: "include",
      headers: {"Content-Type": "application/json"}, body: "BODY"}],
  ["post-guessed-token", {method: "POST", credentials: "include",
      headers: {"Content-Type": "application/json", "Authorization": "Bearer guessed"}, body: "BODY"}],
  ["post-no-cors-text", {method: "POST", mode: "no-cors", credentials: "include",
      headers: {"Content-Type": "text/plain"}, body: "BODY"}],
  ["get-no-cors", {mode: "no-cors", credentials: "include"}],
];
async function attempt(url, init) {
  try {
    const response = await fetch(url, init);
    let body = "";
    try { body = await response.text(); } catch (e) { body = "unreadable: " + e; }
    return {outcome: "answered", type: response.type, status: response.status, body: body};
  } catch (e) {
    return {outcome: "threw", error: String(e)};
  }
}
(async () => {
  const results = [];
  for (const [name, url, body] of targets) {
    for (const [how, init] of ATTEMPTS) {
      const copy = JSON.parse(JSON.stringify(init));
      if (copy.body !== undefined) copy.body = body;
      if (copy.method !== "POST" && url.endsWith("!post")) continue;
      results.push({target: name, how: how, url: url, ...(await attempt(url, copy))});
    }
  }
  // The page's own origin: readable, so the script ran and fetch works.
  results.push({target: "own", how: "get", ...(await attempt("/own.txt", {}))});
  document.getElementById("results").textContent = JSON.stringify(results);
})();
</script></body></html>
"""

CALL = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                   "params": {"name": "echo", "arguments": {"text": "from a page"}}})
INITIALIZE = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
    "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "page", "version": "1"}}})
SEARCH = json.dumps({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                     "params": {"name": "search", "arguments": {"query": "secret plans"}}})


class Page(http.server.SimpleHTTPRequestHandler):
    html = b""

    def do_GET(self):
        body = self.html if self.path in ("/", "/index.html") else b"own origin"
        self.send_response(200)
        self.send_header("Content-Type", "text/html" if body is self.html else "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Recorder(http.server.BaseHTTPRequestHandler):
    """Another port without CORS headers that records what the browser sent it."""
    seen = []

    def answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode(errors="replace") if length else ""
        Recorder.seen.append({"method": self.command, "path": self.path,
                              "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    do_GET = do_POST = do_OPTIONS = answer

    def log_message(self, *args):
        pass


def serve_page(html: str):
    Page.html = html.encode()
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def minibrowser(root: Path):
    """WebKitWebDriver driving MiniBrowser in automation mode; returns (browser, stop)."""
    port = free_port()
    log = open(root / "webkitwebdriver.log", "w")
    driver = subprocess.Popen(["WebKitWebDriver", f"--port={port}"], stdout=log, stderr=log)
    def stop():
        driver.terminate()
        try:
            driver.wait(10)
        except subprocess.TimeoutExpired:
            driver.kill()
        log.close()
    try:
        wait_for(lambda: socket.create_connection(("127.0.0.1", port), timeout=0.2), what="WebKitWebDriver")
        options = ArgOptions()
        options.set_capability("browserName", "MiniBrowser")
        options.set_capability("webkitgtk:browserOptions",
                               {"binary": str(MINIBROWSER), "args": ["--automation"]})
        return webdriver.Remote(command_executor=f"http://127.0.0.1:{port}", options=options), stop
    except Exception:
        stop()
        raise


def test_a_page_on_another_loopback_port_can_neither_read_nor_drive_switchboard(scratch):
    env = scratch.env
    scratch.cli("add", "target", "--", str(FIXTURE), "ok")
    owner = subprocess.Popen([str(CLI), "serve"], env=env, stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=open(scratch.root / "serve.log", "w"))
    docs = scratch.root / "docs"
    docs.mkdir()
    (docs / "plans.md").write_text("# Secret plans\n\nThe secret plans are here.\n")
    kb = subprocess.Popen([str(CLI), "kb", "serve", "--root", str(docs), "--index-dir",
                           str(scratch.root / "index"), "--http", "127.0.0.1:0", "--no-watch"],
                          env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    page = browser = stop = None
    try:
        kb_url = kb_token_file = None
        deadline = time.monotonic() + 60
        while kb_url is None and time.monotonic() < deadline:
            line = kb.stderr.readline()
            if line.startswith("token in "):
                kb_token_file = Path(line.removeprefix("token in ").strip())
            found = re.search(r"listening on (http://\S+/mcp)", line)
            kb_url = found.group(1) if found else None
        assert kb_url, "kb serve --http printed no address"
        assert kb_token_file == scratch.root / "index" / "http-token", kb_token_file
        threading.Thread(target=lambda: [None for _ in kb.stderr], daemon=True).start()

        wait_for(lambda: scratch.status().get("target", {}).get("state", {}).get("kind") == "running",
                 timeout=60, what="target running")
        pid = scratch.status()["target"]["state"]["pid"]
        info = scratch.owner()
        gateway = json.loads(scratch.cli("gateway", "status", "--json").stdout)
        gateway_url = gateway["url"].rstrip("/")
        gateway_base = re.match(r"http://[^/]+", gateway_url).group(0)
        # A host has a token the page does not know.
        scratch.cli("gateway", "token", "--host", "cursor")
        log_before = scratch.cli("gateway", "log", "--json").stdout

        control = f"http://127.0.0.1:{info['port']}"
        targets = [
            ["control-stop", f"{control}/v1/servers/target/stop", "{}"],
            ["control-quit", f"{control}/v1/quit", "{}"],
            ["control-status", f"{control}/v1/status", ""],
            ["control-by-localhost", f"http://localhost:{info['port']}/v1/servers/target/stop", "{}"],
            ["gateway-server", f"{gateway_base}/mcp/target", CALL],
            ["gateway-all", f"{gateway_base}/mcp", INITIALIZE],
            ["gateway-status", f"{gateway_base}/gateway/status", ""],
            ["kb-initialize", kb_url, INITIALIZE],
            ["kb-search", kb_url, SEARCH],
        ]
        recorder = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Recorder)
        threading.Thread(target=recorder.serve_forever, daemon=True).start()
        targets.append(["recorder", f"http://127.0.0.1:{recorder.server_address[1]}/post", "{}"])
        page = serve_page(PAGE.replace("TARGETS", json.dumps(targets)))
        page_url = f"http://127.0.0.1:{page.server_address[1]}/"
        assert page.server_address[1] not in (info["port"], int(gateway_base.rsplit(":", 1)[1]))

        browser, stop = minibrowser(scratch.root)
        browser.get(page_url)
        text = wait_for(lambda: (lambda t: t if t != "running" else None)(
            browser.find_element("id", "results").text), timeout=120, what="the page's results")
        results = json.loads(text)

        recorder.shutdown()
        # What the browser sent another port: a no-cors POST goes out at once with the page's
        # Origin (which the control endpoint refuses outright and the gateway lets through only
        # to the token check); a JSON or bearer POST is a preflight first, and goes no further
        # when the answer has no CORS headers.
        page_origin = page_url.rstrip("/")
        posts = [r for r in Recorder.seen if r["method"] == "POST"]
        assert posts and all(r["headers"].get("origin") == page_origin for r in posts), Recorder.seen
        assert all(r["headers"].get("content-type", "").startswith("text/plain") for r in posts), posts
        assert not any("authorization" in r["headers"] for r in Recorder.seen), Recorder.seen
        preflights = [r for r in Recorder.seen if r["method"] == "OPTIONS"]
        assert preflights and all(r["headers"].get("access-control-request-method") == "POST"
                                  for r in preflights), Recorder.seen
        results = [r for r in results if r["target"] != "recorder"]
        targets = [t for t in targets if t[0] != "recorder"]

        own = [r for r in results if r["target"] == "own"]
        assert own and own[0]["outcome"] == "answered" and own[0]["body"] == "own origin", own
        tried = [r for r in results if r["target"] != "own"]
        assert len(tried) == len(targets) * 7, tried
        for r in tried:
            where = f"{r['target']} {r['how']}: {r}"
            if r["outcome"] == "threw":
                continue
            # Answered at all only in no-cors mode, and then opaque: no status, no body.
            assert r["how"].endswith("no-cors") or r["how"] == "post-no-cors-text", where
            assert r["type"] == "opaque" and r["status"] == 0 and r["body"] == "", where
        # A cors-mode request (the only kind whose answer a page could read) never got through.
        assert all(r["outcome"] == "threw" for r in tried if "no-cors" not in r["how"]), tried

        # Nothing happened.
        time.sleep(0.5)
        assert owner.poll() is None, "the owner quit"
        state = scratch.status()["target"]["state"]
        assert state["kind"] == "running" and state["pid"] == pid, state
        assert scratch.owner()["pid"] == info["pid"]
        log_after = scratch.cli("gateway", "log", "--json").stdout
        assert log_after == log_before, f"the gateway served a page's request: {log_after}"
        for log in (p for p in (scratch.home / "logs").rglob("*") if p.is_file()):
            assert "from a page" not in log.read_text(errors="replace"), log
        assert kb.poll() is None

        # The addresses were right: with what a page does not have, each answers.
        def plain(url, body=None, token=None, headers=()):
            request = urllib.request.Request(url, data=body.encode() if body else None,
                                             method="POST" if body else "GET")
            request.add_header("Content-Type", "application/json")
            request.add_header("Accept", "application/json, text/event-stream")
            if token:
                request.add_header("Authorization", f"Bearer {token}")
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    return response.status
            except urllib.error.HTTPError as refused:
                return refused.code
        assert plain(f"{control}/v1/status", token=info["token"]) == 200
        host_token = scratch.cli("gateway", "token", "--host", "cursor").stdout.strip().split()[-1]
        assert plain(f"{gateway_base}/mcp", INITIALIZE, token=host_token) == 200
        # The knowledge base's token is in the owner-only file it named; without it, 401.
        assert kb_token_file.stat().st_mode & 0o777 == 0o600
        assert plain(kb_url, INITIALIZE) == 401
        assert plain(kb_url, INITIALIZE, token=kb_token_file.read_text().strip()) == 200
    finally:
        if browser is not None:
            try:
                browser.quit()
            except Exception:
                pass
        if stop is not None:
            stop()
        if page is not None:
            page.shutdown()
        kb.terminate()
        if owner.poll() is None:
            scratch.cli("shutdown", check=False)
        try:
            owner.wait(30)
        except subprocess.TimeoutExpired:
            owner.kill()
        kb.wait(10)
