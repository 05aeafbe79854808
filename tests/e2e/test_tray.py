"""The real tray over D-Bus: this test acts as the StatusNotifierWatcher (the desktop's tray host),
so the app's tray item registers with it. It reads the item's label (ayatana's XAyatanaLabel) and icon, fetches its menu
with com.canonical.dbusmenu, clicks a server's Start and checks with `switchboard status` that
the server runs, sees the menu and icon follow (and its Hosts submenu offer a detected app and list a connected one), then clicks Quit: the app exits 0 and no server
process survives. Also measures launch-to-tray-registered time."""

import asyncio
import subprocess
import time

import pytest
from dbus_next import BusType, Message, MessageType, Variant
from dbus_next.aio import MessageBus
from dbus_next.service import PropertyAccess, ServiceInterface, dbus_property, method, signal

from conftest import APP, FIXTURE, alive, group_members, no_app_left, processes

ITEM = "org.kde.StatusNotifierItem"
MENU = "com.canonical.dbusmenu"


class Watcher(ServiceInterface):
    """The bits of org.kde.StatusNotifierWatcher a tray item talks to."""

    def __init__(self):
        super().__init__("org.kde.StatusNotifierWatcher")
        self.items = []
        self.registered = asyncio.Event()

    @method()
    def RegisterStatusNotifierItem(self, service: "s"):  # noqa: F821 (D-Bus signature)
        self.items.append(service)
        self.registered.set()
        self.StatusNotifierItemRegistered(service)

    @method()
    def RegisterStatusNotifierHost(self, service: "s"):  # noqa: F821
        pass

    @dbus_property(access=PropertyAccess.READ)
    def RegisteredStatusNotifierItems(self) -> "as":  # noqa: F821
        return self.items

    @dbus_property(access=PropertyAccess.READ)
    def IsStatusNotifierHostRegistered(self) -> "b":  # noqa: F821
        return True

    @dbus_property(access=PropertyAccess.READ)
    def ProtocolVersion(self) -> "i":  # noqa: F821
        return 0

    @signal()
    def StatusNotifierItemRegistered(self, service) -> "s":  # noqa: F821
        return service

    @signal()
    def StatusNotifierHostRegistered(self):
        return None


async def call(bus, destination, path, interface, member, signature="", body=()):
    reply = await bus.call(
        Message(destination=destination, path=path, interface=interface, member=member,
                signature=signature, body=list(body))
    )
    if reply.message_type == MessageType.ERROR:
        raise RuntimeError(f"{member}: {reply.error_name} {reply.body}")
    return reply.body


def webkit_children(pid: int) -> list:
    """The app's WebKit helper processes (they exist only while a window does)."""
    found = []
    for child, state, ppid, _ in processes():
        if ppid == pid and state not in "ZX":
            try:
                name = open(f"/proc/{child}/comm").read().strip()
            except OSError:
                continue
            if name.startswith("WebKit"):
                found.append(name)
    return found


def item_address(registered: str, sender: str):
    """An item registers either its bus name or (ayatana-appindicator) its object path; in the
    latter case the bus name is the sender of the registration."""
    if registered.startswith("/"):
        return sender, registered
    return registered, "/StatusNotifierItem"


async def prop(bus, name, path, key):
    value = (await call(bus, name, path, "org.freedesktop.DBus.Properties", "Get", "ss", [ITEM, key]))[0]
    return value.value


def flatten(layout):
    """(id, props, children) -> [(id, label, enabled, children_ids)] for every node."""
    node_id, props, children = layout
    label = props.get("label", Variant("s", "")).value
    enabled = props.get("enabled", Variant("b", True)).value
    nodes = [(node_id, label, enabled, [c.value[0] for c in children])]
    for child in children:
        nodes.extend(flatten(child.value))
    return nodes


async def menu(bus, name, menu_path):
    layout = (await call(bus, name, menu_path, MENU, "GetLayout", "iias", [0, -1, []]))[1]
    return flatten(layout)


async def click(bus, name, menu_path, item_id):
    await call(bus, name, menu_path, MENU, "Event", "isvu", [item_id, "clicked", Variant("s", ""), int(time.time())])


def find(nodes, label_start):
    matches = [n for n in nodes if n[1].startswith(label_start)]
    assert matches, f"no menu item starting with {label_start!r} in {[n[1] for n in nodes]}"
    return matches[0]


async def eventually(check, timeout=20.0, what="condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = await check()
            if last:
                return last
        except Exception as error:
            last = error
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


def test_tray_registers_lists_servers_starts_one_and_quits(scratch):
    scratch.cli("add", "alpha", "--disabled", "--", str(FIXTURE), "ok")
    scratch.cli("add", "beta", "--", str(FIXTURE), "ok")
    # Cursor is installed here (its folder exists), not connected.
    (scratch.root / "user-home" / ".cursor").mkdir(parents=True)
    asyncio.run(drive_tray(scratch))


async def drive_tray(scratch):
    bus = await MessageBus(bus_type=BusType.SESSION).connect()
    senders = []

    def note_sender(message):
        if message.member == "RegisterStatusNotifierItem":
            senders.append(message.sender)
        return None  # let the interface handle it too

    bus.add_message_handler(note_sender)
    watcher = Watcher()
    bus.export("/StatusNotifierWatcher", watcher)
    await bus.request_name("org.kde.StatusNotifierWatcher")

    log = open(scratch.root / "app.log", "w")
    launched = time.monotonic()
    # As a login start does: straight to the tray, no window.
    no_app_left()
    app = subprocess.Popen([str(APP), "--hidden"], env=scratch.env, stdout=log, stderr=subprocess.STDOUT)
    try:
        await asyncio.wait_for(watcher.registered.wait(), timeout=30)
        to_tray = time.monotonic() - launched
        print(f"\nlaunch to tray registered: {to_tray:.3f} s")
        (scratch.root / "tray-registered-seconds").write_text(f"{to_tray:.3f}")
        name, path = item_address(watcher.items[0], senders[0])
        menu_path = await prop(bus, name, path, "Menu")

        # In the tray with no window, no WebKit process runs.
        await asyncio.sleep(1)
        assert webkit_children(app.pid) == [], webkit_children(app.pid)

        # Single instance: a second launch hands over to the first and exits 0 (and the first
        # opens its window).
        second = subprocess.run([str(APP)], env=scratch.env, capture_output=True, timeout=30)
        assert second.returncode == 0, second.stderr[-2000:]
        assert app.poll() is None, "the first instance must keep running"
        await eventually(lambda: asyncio.to_thread(lambda: "WebKitWebProces" in webkit_children(app.pid)),
                         what="the window to open in the first instance")

        # beta is enabled, so the app starts it; alpha waits.
        nodes = await eventually(
            lambda: menu_if(bus, name, menu_path, "beta — running"), what="beta running in the menu")
        alpha = find(nodes, "alpha — stopped")
        assert find(nodes, "Start all") and find(nodes, "Stop all") and find(nodes, "Open Switchboard")
        title_before = await prop(bus, name, path, "XAyatanaLabel")
        icon_before = await prop(bus, name, path, "IconName")
        assert "1 of 2 running" in title_before, title_before

        # The Hosts submenu: no app connected yet, the detected Cursor offered, and a way to
        # connect others.
        assert find(nodes, "Hosts") and find(nodes, "No app connected") and find(nodes, "Connect apps…")
        offer = find(nodes, "Connect Cursor…")
        assert offer[2], "Connect Cursor… should be enabled"
        # It opens the window on the change to review: nothing is written from the tray.
        await click(bus, name, menu_path, offer[0])
        await asyncio.sleep(1)
        assert not (scratch.root / "user-home" / ".cursor" / "mcp.json").exists()
        assert app.poll() is None
        # Cursor connected from the command line shows there once the menu is rebuilt, and is no
        # longer offered.
        scratch.cli("hosts", "connect", "cursor")

        # Click alpha's Start in its submenu.
        start = [n for n in nodes if n[0] in alpha[3] and n[1] == "Start"][0]
        assert start[2], "Start should be enabled for a stopped server"
        await click(bus, name, menu_path, start[0])
        status = await eventually(
            lambda: asyncio.to_thread(lambda: scratch.status()["alpha"]["state"]["kind"] == "running" and scratch.status()),
            what="alpha running per `switchboard status`")
        alpha_pid = status["alpha"]["state"]["pid"]
        beta_pid = status["beta"]["state"]["pid"]
        assert alive(alpha_pid) and alive(beta_pid)

        nodes = await eventually(lambda: menu_if(bus, name, menu_path, "alpha — running"), what="menu rebuilt")
        assert find(nodes, "Cursor — one entry per server"), [n[1] for n in nodes]
        assert not [n for n in nodes if n[1] == "Connect Cursor…"], [n[1] for n in nodes]
        title_after = await eventually(
            lambda: title_if(bus, name, path, "2 of 2 running"), what="title to follow")
        icon_after = await prop(bus, name, path, "IconName")
        assert icon_after != icon_before, "the icon should change when every server runs"
        assert "2 of 2 running" in title_after

        # Quit: every server stops, the app exits 0.
        await click(bus, name, menu_path, find(nodes, "Quit")[0])
        code = await asyncio.to_thread(app.wait, 30)
        assert code == 0, (scratch.root / "app.log").read_text()
        for pid in (alpha_pid, beta_pid):
            assert group_members(pid) == [], f"server group {pid} survived Quit"
    finally:
        if app.poll() is None:
            app.kill()
            app.wait()
        log.close()
        bus.disconnect()


async def menu_if(bus, name, menu_path, label):
    nodes = await menu(bus, name, menu_path)
    return nodes if any(n[1] == label for n in nodes) else None


async def title_if(bus, name, path, text):
    title = await prop(bus, name, path, "XAyatanaLabel")
    return title if text in title else None


class Notifications(ServiceInterface):
    """A desktop notification server that records what it is asked to show."""

    def __init__(self):
        super().__init__("org.freedesktop.Notifications")
        self.shown = []
        self.arrived = asyncio.Event()

    @method()
    def Notify(self, app_name: "s", replaces_id: "u", app_icon: "s", summary: "s", body: "s",  # noqa: F821
               actions: "as", hints: "a{sv}", expire_timeout: "i") -> "u":  # noqa: F821
        self.shown.append((summary, body))
        self.arrived.set()
        return len(self.shown)

    @method()
    def GetCapabilities(self) -> "as":  # noqa: F821
        return ["body"]

    @method()
    def GetServerInformation(self) -> "ssss":  # noqa: F821
        return ["e2e", "switchboard-tests", "1", "1.2"]

    @method()
    def CloseNotification(self, id: "u"):  # noqa: F821
        pass


def test_a_failed_server_raises_a_notification_and_marks_the_tray(scratch):
    scratch.cli("add", "broken", "--", str(FIXTURE), "exit-at-start", "--exit-code", "3")
    asyncio.run(drive_failure(scratch))


async def drive_failure(scratch):
    bus = await MessageBus(bus_type=BusType.SESSION).connect()
    senders = []
    bus.add_message_handler(lambda m: senders.append(m.sender) if m.member == "RegisterStatusNotifierItem" else None)
    watcher, notifications = Watcher(), Notifications()
    bus.export("/StatusNotifierWatcher", watcher)
    bus.export("/org/freedesktop/Notifications", notifications)
    await bus.request_name("org.kde.StatusNotifierWatcher")
    await bus.request_name("org.freedesktop.Notifications")
    log = open(scratch.root / "app.log", "w")
    no_app_left()
    app = subprocess.Popen([str(APP)], env=scratch.env, stdout=log, stderr=subprocess.STDOUT)
    try:
        await asyncio.wait_for(watcher.registered.wait(), timeout=30)
        name, path = item_address(watcher.items[0], senders[0])
        await asyncio.wait_for(notifications.arrived.wait(), timeout=30)
        summary, body = notifications.shown[0]
        assert summary == "broken failed"
        assert "exited with code 3" in body, body
        label = await eventually(lambda: title_if(bus, name, path, "1 failed"), what="the label to show the failure")
        assert "0 of 1 running, 1 failed" in label
        assert (await prop(bus, name, path, "IconName")).endswith(".png")
        menu_path = await prop(bus, name, path, "Menu")
        assert find(await menu(bus, name, menu_path), "broken — failed")
    finally:
        app.terminate()
        assert app.wait(timeout=30) == 0
        log.close()
        bus.disconnect()
