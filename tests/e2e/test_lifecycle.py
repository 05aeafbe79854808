"""What quitting the app does to the servers hosts use, per the `quitStopsServers` setting:

- off when the app starts: the app runs the servers in a background owner of its own
  (`switchboard-app serve`), attaches to it, and quitting leaves it serving the hosts; the next
  launch attaches to it again, and quitting with the setting back on stops it;
- turned off in the window while the app owns the servers: quitting hands them to a background
  owner, which serves on the same gateway port.

The app is real (spawned directly, or through WebDriver to click the setting), the server is the
fixture, and the host is a plain HTTP client with a host token."""

import json
import os
import signal
import subprocess
import time
from pathlib import Path

from selenium.webdriver.common.by import By

from conftest import APP, FIXTURE, alive, app_processes, find, group_members, no_app_left, start_driver, wait_for
from test_window import host_session, mcp_post


def echo(url, token, session, n):
    _, _, answer = mcp_post(url, token, {
        "jsonrpc": "2.0", "id": n, "method": "tools/call",
        "params": {"name": "echo", "arguments": {"message": f"call {n}"}}}, session)
    return answer["result"]["content"][0]["text"]


def settings(scratch, **values):
    current = json.loads(scratch.settings.read_text())
    current.update(values)
    scratch.settings.write_text(json.dumps(current) + "\n")


def parent_of(pid):
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat[stat.rfind(")") + 2:].split()[1])


def launch(scratch, log_name):
    no_app_left()
    log = open(scratch.root / log_name, "w")
    return subprocess.Popen([str(APP), "--hidden"], env=scratch.env, stdout=log, stderr=subprocess.STDOUT), log


def quit_app(app, scratch, log_name):
    """SIGTERM, which quits like the tray's Quit; the app exits 0."""
    app.send_signal(signal.SIGTERM)
    code = app.wait(timeout=60)
    assert code == 0, (scratch.root / log_name).read_text(errors="replace")[-3000:]


def test_with_the_setting_off_the_servers_outlive_the_app_in_its_background_owner(scratch):
    settings(scratch, quitStopsServers=False)
    scratch.cli("add", "fixture", "--", str(FIXTURE), "ok")
    app, log = launch(scratch, "app.log")
    owner = None
    try:
        # The app started a background owner and attached to it: the owner is another process,
        # and the server is that owner's child, not the app's.
        owner = wait_for(lambda: (scratch.owner() or {}).get("kind") == "background" and scratch.owner(),
                         timeout=60, what="a background owner")
        assert owner["pid"] != app.pid and alive(owner["pid"])
        assert app_processes("serve") == [owner["pid"]]
        server = wait_for(lambda: scratch.status()["fixture"]["state"].get("pid"), what="the server running")
        assert parent_of(server) == owner["pid"]
        url, token, session, _ = host_session(scratch, "fixture", "cursor")
        assert echo(url, token, session, 2) == "Echo: call 2"

        # Quit: the app ends; the owner, its server and the host's session go on.
        quit_app(app, scratch, "app.log")
        assert scratch.owner()["pid"] == owner["pid"] and alive(owner["pid"])
        assert scratch.status()["fixture"]["state"].get("pid") == server
        assert echo(url, token, session, 3) == "Echo: call 3"

        # The next launch attaches to the same owner; with the setting back on, its Quit stops
        # the background owner (it is the app's own), the server's whole group with it.
        app, log = launch(scratch, "app2.log")
        wait_for(lambda: any(p == app.pid for p in app_processes()), what="the app running again")
        time.sleep(1.0)  # let it attach
        assert scratch.owner()["pid"] == owner["pid"], "the app must attach, not take over"
        assert echo(url, token, session, 4) == "Echo: call 4"
        settings(scratch, quitStopsServers=True)
        quit_app(app, scratch, "app2.log")
        assert not alive(owner["pid"]), "the background owner must stop with the app"
        assert group_members(server) == [], "the server's group survived"
        assert scratch.owner() is None
    finally:
        if app.poll() is None:
            app.kill()
            app.wait()
        log.close()
        scratch.cli("shutdown", check=False)


def test_turning_the_setting_off_hands_the_servers_to_a_background_owner_on_quit(scratch):
    scratch.cli("add", "fixture", "--", str(FIXTURE), "ok")
    browser, stop = start_driver(scratch)
    try:
        # By default the app owns the servers itself.
        wait_for(lambda: (scratch.owner() or {}).get("kind") == "app", what="the app owning the servers")
        app_pid = scratch.owner()["pid"]
        first = wait_for(lambda: scratch.status()["fixture"]["state"].get("pid"), what="the server running")
        port = json.loads(scratch.cli("gateway", "status", "--json").stdout)["port"]

        find(browser, 'button[data-view="settings"]').click()
        box = find(browser, '[data-testid="quit-stops-servers"]')
        assert box.is_selected()
        box.click()
        wait_for(lambda: json.loads(scratch.settings.read_text()).get("quitStopsServers") is False,
                 what="the setting saved")
        assert "keep running in the background" in browser.find_element(By.CSS_SELECTOR, ".hint").text

        os.kill(app_pid, signal.SIGTERM)
        wait_for(lambda: not alive(app_pid), timeout=60, what="the app to quit")
        owner = wait_for(lambda: (scratch.owner() or {}).get("kind") == "background" and scratch.owner(),
                         timeout=60, what="a background owner taking over")
        server = wait_for(lambda: scratch.status()["fixture"]["state"].get("pid"), what="the server running again")
        assert server != first and not alive(first)
        assert parent_of(server) == owner["pid"]
        # Same port: the hosts' entries stay valid.
        gateway = json.loads(scratch.cli("gateway", "status", "--json").stdout)
        assert gateway["port"] == port
        url, token, session, _ = host_session(scratch, "fixture", "cursor")
        assert echo(url, token, session, 2) == "Echo: call 2"
    finally:
        try:
            browser.quit()
        except Exception:
            pass  # the app it drove is gone
        stop()
        no_app_left()
        scratch.cli("shutdown", check=False)
    assert not app_processes("serve"), "shutdown left a background owner"
