"""Shared set-up for the end-to-end suites: the real app binary, a scratch SWITCHBOARD_HOME and
XDG folders per test, and the `switchboard` CLI to check what the app did. The suites run under
`xvfb-run` and `dbus-run-session` (see ./x), so DISPLAY and the session bus are private."""

import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

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
    root = Path(tempfile.mkdtemp(prefix="sb-e2e-"))
    try:
        yield Scratch(root)
    finally:
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
