"""Footprint of the release app at rest (run by `./x bench`, not a test): 5 servers registered, 2
running. Two phases: in the tray (launched with --hidden, as a login start is: no window, no
WebKit), then with the window open (a second launch hands over and opens it). For each: RSS and
PSS of the app plus its WebKit processes (the servers' own memory separately) and idle CPU, over
60 s of 1 s samples (medians); and the time from launch to the tray item registering. Run under
xvfb-run and dbus-run-session."""

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from conftest import ROOT, Scratch, processes  # noqa: E402
from test_tray import Watcher  # noqa: E402
from dbus_next import BusType  # noqa: E402
from dbus_next.aio import MessageBus  # noqa: E402

RELEASE = ROOT / "target" / "release"
SECONDS = int(os.environ.get("FOOTPRINT_SECONDS", "60"))
TICKS = os.sysconf("SC_CLK_TCK")


def children_of(pid: int) -> list:
    return [child for child, _, ppid, _ in processes() if ppid == pid]


def tree(pid: int) -> list:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children_of(p))
    return out


def comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def kib(path: str, key: str) -> int:
    """A "Key:   N kB" field of a /proc file (0 if the process is gone)."""
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def rss_kib(pid: int) -> int:
    return kib(f"/proc/{pid}/status", "VmRSS:")


def pss_kib(pid: int) -> int:
    """Proportional set size: shared pages (the WebKit libraries) divided among their users."""
    return kib(f"/proc/{pid}/smaps_rollup", "Pss:")


def cpu_ticks(pid: int) -> int:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    fields = stat[stat.rfind(")") + 2:].split()
    return int(fields[11]) + int(fields[12])


def split(app_pid: int):
    """(app + WebKit processes, MCP servers) of the app's process tree."""
    ours, servers = [], []
    for pid in tree(app_pid):
        (servers if comm(pid).startswith("sb-fixture") else ours).append(pid)
    return ours, servers


async def measure(app_pid: int, phase: str):
    ours, _ = split(app_pid)
    first = sum(cpu_ticks(p) for p in ours)
    per_process_first = {p: cpu_ticks(p) for p in ours}
    started = time.monotonic()
    rss, pss, server_rss = [], [], []
    for _ in range(SECONDS):
        await asyncio.sleep(1)
        ours, servers = split(app_pid)
        rss.append(sum(rss_kib(p) for p in ours))
        pss.append(sum(pss_kib(p) for p in ours))
        server_rss.append(sum(rss_kib(p) for p in servers))
    elapsed = time.monotonic() - started
    cpu = (sum(cpu_ticks(p) for p in ours) - first) / TICKS / elapsed * 100
    print(f"  {phase}:")
    for p in ours:
        used = (cpu_ticks(p) - per_process_first.get(p, 0)) / TICKS / elapsed * 100
        print(f"    {comm(p):16} RSS {rss_kib(p) / 1024:6.1f} MiB, PSS {pss_kib(p) / 1024:6.1f} MiB, CPU {used:.2f} %")
    print(f"    total: RSS median {statistics.median(rss) / 1024:.1f} MiB, PSS median "
          f"{statistics.median(pss) / 1024:.1f} MiB (shared pages counted once), idle CPU {cpu:.2f} % of "
          f"one core; the 2 servers: RSS {statistics.median(server_rss) / 1024:.1f} MiB")


async def main():
    scratch = Scratch(Path(tempfile.mkdtemp(prefix="sb-footprint-")))
    fixture = RELEASE / "sb-fixture"
    for i in range(5):
        flags = [] if i < 2 else ["--disabled"]
        subprocess.run([str(RELEASE / "switchboard"), "add", f"s{i}", *flags, "--", str(fixture), "ok"],
                       env=scratch.env, check=True, capture_output=True)
    bus = await MessageBus(bus_type=BusType.SESSION).connect()
    watcher = Watcher()
    bus.export("/StatusNotifierWatcher", watcher)
    await bus.request_name("org.kde.StatusNotifierWatcher")

    launched = time.monotonic()
    app = subprocess.Popen([str(RELEASE / "switchboard-app"), "--hidden"], env=scratch.env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    await asyncio.wait_for(watcher.registered.wait(), timeout=30)
    to_tray = time.monotonic() - launched
    while True:
        status = subprocess.run([str(RELEASE / "switchboard"), "status", "--json"], env=scratch.env,
                                capture_output=True, text=True)
        if status.stdout.count('"running"') == 2:
            break
        await asyncio.sleep(0.1)
    print(f"footprint (release, 5 servers registered, 2 running, {SECONDS} s idle per phase)")
    print(f"  launch to tray registered: {to_tray:.3f} s")
    await asyncio.sleep(5)  # let start-up settle
    await measure(app.pid, "in the tray (no window)")
    subprocess.run([str(RELEASE / "switchboard-app")], env=scratch.env, timeout=30, capture_output=True)
    await asyncio.sleep(8)  # the window opens and renders
    await measure(app.pid, "with the window open")
    app.terminate()
    app.wait(timeout=30)
    bus.disconnect()


asyncio.run(main())
