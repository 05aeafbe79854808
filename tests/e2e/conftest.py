"""Shared set-up for the end-to-end suites: the real app binary, a scratch SWITCHBOARD_HOME and
XDG folders per test, and the `switchboard` CLI to check what the app did. The suites run under
`xvfb-run` and `dbus-run-session` (see ./x), so DISPLAY and the session bus are private."""

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import socket

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.options import ArgOptions
from selenium.webdriver.remote.client_config import ClientConfig
from selenium.webdriver.remote.file_detector import UselessFileDetector

ROOT = Path(__file__).resolve().parents[2]
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "debug"
APP = TARGET / "switchboard-app"
CLI = TARGET / "switchboard"
FIXTURE = TARGET / "sb-fixture"
SCREENSHOTS = ROOT / "target" / "e2e-screenshots"


class Scratch:
    """A private state folder and environment for one app run."""

    def __init__(self, root: Path):
        self.root = root
        self.home = root / "home"
        self.env = dict(os.environ)
        # HOME too: some libraries (the autostart one) write under $HOME/.config regardless of
        # XDG_CONFIG_HOME, and a test must never touch the real home folder.
        (root / "user-home").mkdir(parents=True, exist_ok=True)
        self.env.update(
            HOME=str(root / "user-home"),
            SWITCHBOARD_HOME=str(self.home),
            NO_AT_BRIDGE="1",
            SWITCHBOARD_LOG="info,rmcp=warn",
        )
        for var, sub in [
            ("XDG_DATA_HOME", "xdg-data"),
            ("XDG_CACHE_HOME", "xdg-cache"),
            ("XDG_CONFIG_HOME", "xdg-config"),
            ("XDG_RUNTIME_DIR", "xdg-run"),
            ("TMPDIR", "tmp"),
        ]:
            path = root / sub
            path.mkdir(mode=0o700, parents=True, exist_ok=True)
            self.env[var] = str(path)
        # The app registers its built-in knowledge-base server on a first start; the tests of
        # other views start from an empty registry (as after a user removed it). test_kb.py
        # calls offer_knowledge_base() to get the first-start behaviour.
        self.settings = self.home / "config" / "settings.json"
        self.settings.parent.mkdir(parents=True, exist_ok=True)
        self.settings.write_text('{"knowledgeBaseOffered": true, "hostsOffered": true}\n')

    def offer_knowledge_base(self):
        # A first start for the knowledge base, not for the hosts' offer (its own test).
        self.settings.write_text('{"hostsOffered": true}\n')

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [str(CLI), *args], env=self.env, capture_output=True, text=True, timeout=60
        )
        if check and result.returncode != 0:
            raise AssertionError(f"switchboard {' '.join(args)} failed: {result.stderr}")
        return result

    def status(self) -> dict:
        return {s["name"]: s for s in json.loads(self.cli("status", "--json").stdout)}

    def listed(self) -> list:
        return json.loads(self.cli("list", "--json").stdout)

    def owner(self):
        path = self.home / "run" / "owner.json"
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):
            return None


@pytest.fixture
def scratch():
    # Kept for ./x test's secret scan when SWITCHBOARD_TEST_KEEP_HOMES names a folder (testkit's
    # temp_home does the same for the Rust tests).
    keep = os.environ.get("SWITCHBOARD_TEST_KEEP_HOMES")
    if keep:
        os.makedirs(keep, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="sb-e2e-", dir=keep or None))
    try:
        yield Scratch(root)
    finally:
        if not keep:
            shutil.rmtree(root, ignore_errors=True)


def wait_for(condition, timeout: float = 20.0, interval: float = 0.05, what: str = "condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = condition()
            if last:
                return last
        except Exception as error:  # the thing may not exist yet
            last = error
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


def alive(pid: int) -> bool:
    """Exists and is not a zombie (PID 1 here does not reap orphans)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2] not in "ZX"


def processes():
    """Every process as (pid, state, ppid, pgrp), from /proc."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        yield int(entry.name), fields[0], int(fields[1]), int(fields[2])


def group_members(pgid: int) -> list:
    """Live processes in process group `pgid`."""
    return [pid for pid, state, _, pgrp in processes() if pgrp == pgid and state not in "ZX"]


# The app through WebDriver (tauri-driver in front of WebKitWebDriver).

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def app_processes(mode: str = "window") -> list:
    """Live instances of the app binary (the suites run one at a time, so all are ours): the
    windowed app, or with mode="serve" the background owners it starts (`switchboard-app serve`)."""
    found = []
    for pid, state, _, _ in processes():
        if state == "Z":
            continue
        try:
            if os.readlink(f"/proc/{pid}/exe") != str(APP.resolve()):
                continue
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        serving = len(argv) > 1 and argv[1] == b"serve"
        if serving == (mode == "serve"):
            found.append(pid)
    return found


def no_app_left(timeout: float = 15.0):
    """Waits until no app instance runs, then kills stragglers. A new app that starts while an old
    one still holds the single-instance name on the session bus hands over to it and exits, and
    WebKitWebDriver then waits for a window forever."""
    try:
        wait_for(lambda: not app_processes(), timeout=timeout, what="the previous app to exit")
    except AssertionError:
        for pid in app_processes():
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass
        wait_for(lambda: not app_processes(), timeout=5, what="killed app instances to go")


def start_driver_once(scratch):
    """tauri-driver plus a WebDriver session on the app; returns (browser, stop)."""
    no_app_left()
    port, native = free_port(), free_port()
    while native == port:
        native = free_port()
    log = open(scratch.root / "tauri-driver.log", "w")
    proc = subprocess.Popen(
        ["tauri-driver", "--port", str(port), "--native-port", str(native)],
        env=scratch.env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )

    def stop():
        proc.terminate()
        proc.wait(timeout=10)
        log.close()

    try:
        wait_for(lambda: socket.create_connection(("127.0.0.1", port), timeout=0.2), what="tauri-driver")
        options = ArgOptions()
        options.set_capability("tauri:options", {"application": str(APP)})
        url = f"http://127.0.0.1:{port}"
        # No WebDriver command may wait forever: a stuck one fails (and session start is retried).
        config = ClientConfig(remote_server_addr=url, timeout=60)
        browser = webdriver.Remote(command_executor=url, options=options, client_config=config)
    except BaseException:
        stop()
        raise
    browser.implicitly_wait(0)
    # Typed text that happens to name a local file (the fixture's path) is text, not an upload.
    browser.file_detector = UselessFileDetector()
    return browser, stop


def start_driver(scratch, attempts: int = 3):
    """tauri-driver plus a WebDriver session on the app; returns (browser, stop). Retried: a port
    picked as free can be taken again before tauri-driver or WebKitWebDriver binds it."""
    for attempt in range(attempts):
        try:
            return start_driver_once(scratch)
        except Exception:
            if attempt == attempts - 1:
                raise
            time.sleep(0.5)


@pytest.fixture
def driver(scratch):
    browser, stop = start_driver(scratch)
    try:
        yield browser
    finally:
        browser.quit()
        stop()
        quit_apps()
        no_app_left()


def quit_apps():
    """SIGTERM (the tray's Quit) to every app still running. Ending the WebDriver session closes
    the window, and the app lives on in the tray unless the driver kills it, which it does or not
    depending on a race with tauri-driver's own exit."""
    for pid in app_processes():
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass


def find(browser, css):
    return wait_for(lambda: browser.find_element(By.CSS_SELECTOR, css), what=css)
