"""The real app window through WebDriver (tauri-driver in front of WebKitWebDriver): add a fixture
server through the dialog, start it, see it running with a pid, see a log line, stop it, remove
it; edit it; an invalid form shows errors and changes nothing; a host reaching a server through
the gateway shows in its row. Saves a screenshot of every view."""

import json
import subprocess
import time
import urllib.request

from selenium.webdriver.common.by import By
from selenium.webdriver.support.select import Select

from conftest import APP, CLI, FIXTURE, SCREENSHOTS, alive, find, no_app_left, start_driver, wait_for


def row(browser, name):
    return browser.find_element(By.CSS_SELECTOR, f'tr[data-server="{name}"]')


def state_of(browser, name):
    return row(browser, name).find_element(By.CSS_SELECTOR, '[data-testid="state"]').text


def fill(browser, field, value):
    element = browser.find_element(By.CSS_SELECTOR, f'[data-testid="server-dialog"] [name="{field}"]')
    element.clear()
    element.send_keys(value)


def shot(browser, view):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.find_element(By.CSS_SELECTOR, f'button[data-view="{view}"]').click()
    time.sleep(0.3)
    browser.save_screenshot(str(SCREENSHOTS / f"{view}.png"))


def test_add_start_see_logs_stop_remove_through_the_window(driver, scratch):
    find(driver, 'button[data-testid="add-server"]')

    # An invalid form shows errors and changes nothing.
    find(driver, 'button[data-testid="add-server"]').click()
    fill(driver, "name", "Bad Name")
    driver.find_element(By.CSS_SELECTOR, '[data-testid="save-server"]').click()
    name_error = find(driver, '[data-error="name"]')
    assert "lowercase" in name_error.text
    assert "required" in find(driver, '[data-error="command"]').text
    assert driver.find_element(By.CSS_SELECTOR, '[data-testid="server-dialog"]').get_attribute("open") is not None
    assert scratch.listed() == []

    # A valid one is added (stopped), then started.
    fill(driver, "name", "fixture")
    fill(driver, "command", str(FIXTURE))
    fill(driver, "args", "ok")
    driver.find_element(By.CSS_SELECTOR, '[data-testid="save-server"]').click()
    wait_for(lambda: row(driver, "fixture"), what="the new row")
    assert [s["name"] for s in scratch.listed()] == ["fixture"]
    assert state_of(driver, "fixture") == "stopped"

    row(driver, "fixture").find_element(By.CSS_SELECTOR, '[data-action="start"]').click()
    wait_for(lambda: state_of(driver, "fixture") == "running", what="running in the window")
    pid = int(wait_for(lambda: row(driver, "fixture").find_element(By.CSS_SELECTOR, '[data-testid="pid"]').text))
    state = scratch.status()["fixture"]["state"]
    assert (state["kind"], state["pid"]) == ("running", pid), state
    assert alive(pid)

    # Edit: the dialog opens filled in; changing the restart policy is saved to the registry, and
    # the running server is left alone (its command did not change).
    row(driver, "fixture").find_element(By.CSS_SELECTOR, '[data-action="edit"]').click()
    dialog = find(driver, '[data-testid="server-dialog"][open]')
    assert dialog.find_element(By.CSS_SELECTOR, '[name="command"]').get_attribute("value") == str(FIXTURE)
    Select(dialog.find_element(By.CSS_SELECTOR, '[name="restart"]')).select_by_value("never")
    dialog.find_element(By.CSS_SELECTOR, '[data-testid="save-server"]').click()
    wait_for(lambda: scratch.listed()[0]["restart"] == "never", what="the edit to be saved")
    assert scratch.status()["fixture"]["state"]["pid"] == pid, "an edit of the policy must not restart"
    shot(driver, "servers")

    # Its log, live.
    row(driver, "fixture").find_element(By.CSS_SELECTOR, '[data-action="logs"]').click()
    wait_for(lambda: "ready: sb-fixture" in driver.find_element(By.CSS_SELECTOR, '[data-testid="log-lines"]').text, what="a log line")
    log_filter = driver.find_element(By.CSS_SELECTOR, '[data-testid="log-filter"]')
    log_filter.send_keys("serving on stdio")
    wait_for(lambda: "ready:" not in driver.find_element(By.CSS_SELECTOR, '[data-testid="log-lines"]').text, what="the filter")
    assert "serving on stdio" in driver.find_element(By.CSS_SELECTOR, '[data-testid="log-lines"]').text
    shot(driver, "logs")

    for view in ["catalog", "hosts", "tester", "kb", "settings"]:
        shot(driver, view)

    # Start at login: off by default; the Settings toggle writes and removes the XDG autostart
    # entry (auto-launch writes it under $HOME/.config, not $XDG_CONFIG_HOME).
    autostart_dir = scratch.root / "user-home" / ".config" / "autostart"
    toggle = find(driver, '[data-testid="autostart"]')
    assert not toggle.is_selected()
    assert not list(autostart_dir.glob("*.desktop"))
    toggle.click()
    entry = wait_for(lambda: list(autostart_dir.glob("*.desktop")), what="the autostart entry")[0]
    assert str(APP) in entry.read_text()
    toggle.click()
    wait_for(lambda: not list(autostart_dir.glob("*.desktop")), what="the autostart entry to go")

    # Stop, then remove (two clicks: Remove, Confirm remove).
    driver.find_element(By.CSS_SELECTOR, 'button[data-view="servers"]').click()
    row(driver, "fixture").find_element(By.CSS_SELECTOR, '[data-action="stop"]').click()
    wait_for(lambda: state_of(driver, "fixture") == "stopped", what="stopped in the window")
    wait_for(lambda: not alive(pid), what=f"pid {pid} to end")
    remove = row(driver, "fixture").find_element(By.CSS_SELECTOR, '[data-action="remove"]')
    remove.click()
    assert remove.text == "Confirm remove"
    assert [s["name"] for s in scratch.listed()] == ["fixture"]
    remove.click()
    wait_for(lambda: not driver.find_elements(By.CSS_SELECTOR, 'tr[data-server="fixture"]'), what="the row to go")
    assert scratch.listed() == []


def test_the_app_attaches_to_a_headless_owner_and_leaves_it_serving(scratch):
    """A headless owner (`serve`, as `switchboard connect` starts one for a host at login) runs a
    server a host is using; opening the app shows that owner's servers and acts on them, nothing
    restarts, the host's session goes on, and quitting the app leaves the owner serving."""
    scratch.cli("add", "fixture", "--", str(FIXTURE), "ok")
    serve = subprocess.Popen([str(CLI), "serve"], env=scratch.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: scratch.owner() and scratch.owner()["kind"] == "serve", what="serve to own the folder")
        pid = wait_for(lambda: scratch.status()["fixture"]["state"].get("pid"), what="the server running under serve")
        url, token, session, _ = host_session(scratch, "fixture", "cursor")

        def echo(n):
            _, _, answer = mcp_post(url, token, {
                "jsonrpc": "2.0", "id": n, "method": "tools/call",
                "params": {"name": "echo", "arguments": {"message": f"call {n}"}}}, session)
            return answer["result"]["content"][0]["text"]

        assert echo(2) == "Echo: call 2"
        # The owner publishes who is connected at most once a second, when it changed: let that
        # event go by before the app starts, so only reading it on attaching can show it.
        time.sleep(2.5)
        browser, stop = start_driver(scratch)
        try:
            # The window shows serve's server, running with its pid; no "not managing" banner.
            wait_for(lambda: state_of(browser, "fixture") == "running", what="the attached owner's server")
            assert int(row(browser, "fixture").find_element(By.CSS_SELECTOR, '[data-testid="pid"]').text) == pid
            assert not browser.find_elements(By.CSS_SELECTOR, '[data-testid="owner-error"]')
            assert scratch.owner()["kind"] == "serve", "the app must not take over"
            # Who is connected, read from the owner when the window opened (the host's last
            # call was before the app started, so no event will say it again).
            hosts = lambda: row(browser, "fixture").find_element(By.CSS_SELECTOR, '[data-testid="hosts"]').text
            wait_for(lambda: "cursor" in hosts() and "1 call" in hosts(), what="the connected host, read on attaching")
            # The host's session went on through the app's start.
            assert echo(3) == "Echo: call 3"
            # Acting from the window acts on serve's server, and its events reach the window.
            row(browser, "fixture").find_element(By.CSS_SELECTOR, '[data-action="restart"]').click()
            wait_for(lambda: scratch.status()["fixture"]["state"].get("pid") not in (None, pid), what="a restart under serve")
            new_pid = scratch.status()["fixture"]["state"]["pid"]
            wait_for(lambda: row(browser, "fixture").find_element(By.CSS_SELECTOR, '[data-testid="pid"]').text == str(new_pid),
                     what="the window to show the new pid")
        finally:
            browser.quit()
            stop()
            no_app_left()
        # Quitting the app leaves the owner serving, its server running, the host connected.
        assert scratch.owner()["kind"] == "serve"
        assert scratch.status()["fixture"]["state"].get("pid") == new_pid
        assert echo(4) == "Echo: call 4"
    finally:
        serve.terminate()
        assert serve.wait(timeout=30) == 0


def mcp_post(url, token, message, session=None):
    """One JSON-RPC message to the gateway over Streamable HTTP: (status, session id, the JSON-RPC
    answer if one came, as JSON or as the first SSE event)."""
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
        "Accept": "application/json, text/event-stream",
        "MCP-Protocol-Version": "2025-06-18",
    }
    if session:
        headers["Mcp-Session-Id"] = session
    request = urllib.request.Request(url, data=json.dumps(message).encode(), headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        body = response.read().decode()
        answer = None
        if body.strip().startswith("{"):
            answer = json.loads(body)
        else:
            for line in body.splitlines():
                if line.startswith("data:") and line[5:].strip():
                    answer = json.loads(line[5:])
                    if "id" in answer:
                        break
        return response.status, response.headers.get("Mcp-Session-Id", session), answer


def host_session(scratch, server, host):
    """A host's session on `server` through the running owner's gateway, with that host's token:
    (url, token, session id, the initialize answer)."""
    gateway = json.loads(scratch.cli("gateway", "status", "--json").stdout)
    token = scratch.cli("gateway", "token", "--host", host).stdout.strip()
    url = f"{gateway['url']}/{server}"
    status, session, answer = mcp_post(url, token, {
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                   "clientInfo": {"name": "e2e", "version": "1"}}})
    assert status == 200 and session, (status, answer)
    mcp_post(url, token, {"jsonrpc": "2.0", "method": "notifications/initialized"}, session)
    return url, token, session, answer


def test_hosts_reaching_a_server_through_the_gateway_show_in_its_row(driver, scratch):
    scratch.cli("add", "fixture", "--", str(FIXTURE), "ok")
    wait_for(lambda: row(driver, "fixture"), what="the server listed")
    row(driver, "fixture").find_element(By.CSS_SELECTOR, '[data-action="start"]').click()
    wait_for(lambda: state_of(driver, "fixture") == "running", what="running in the window")
    assert row(driver, "fixture").find_element(By.CSS_SELECTOR, '[data-testid="hosts"]').text == ""

    # A host (here a plain HTTP client with Cursor's token) calls the server through the gateway.
    url, token, session, answer = host_session(scratch, "fixture", "cursor")
    assert answer["result"]["serverInfo"]["name"] == "sb-fixture", answer
    _, _, echoed = mcp_post(url, token, {
        "jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": "echo", "arguments": {"message": "hi"}}}, session)
    assert echoed["result"]["content"][0]["text"] == "Echo: hi", echoed

    # The row's Connected hosts cell names the host and counts its call, pushed, not polled.
    cell = lambda: row(driver, "fixture").find_element(By.CSS_SELECTOR, '[data-testid="hosts"]').text
    wait_for(lambda: "cursor" in cell() and "1 call" in cell(), what="the connected host in the row")
