"""The Hosts view through the real window: a detected host (Cursor, by its folder in the test's own
HOME) lists our servers with a checkbox each; ticking one and reviewing shows the exact diff and
writes nothing; Write changes only our entry; when someone else removes it the guardian's drift
badge appears and Re-apply puts it back; Undo restores the file byte for byte."""

import json
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By

from conftest import FIXTURE, SCREENSHOTS, find, no_app_left, start_driver, wait_for

ORIGINAL = '{\n  "keep": {"me": "exactly"},\n  "mcpServers": {\n    "theirs": {"command": "their-server"}\n  }\n}\n'


@pytest.fixture()
def cursor_user(scratch):
    scratch.cli("add", "fx", "--", str(FIXTURE), "ok")
    config = Path(scratch.env["HOME"]) / ".cursor" / "mcp.json"
    config.parent.mkdir(parents=True)
    config.write_text(ORIGINAL)
    scratch.cursor_config = config
    return scratch


def host_card(driver, host):
    return find(driver, f'[data-testid="host"][data-host="{host}"]')


def test_the_hosts_view_previews_writes_repairs_drift_and_undoes(cursor_user, driver, scratch):
    config = scratch.cursor_config
    find(driver, 'button[data-view="hosts"]').click()
    card = host_card(driver, "cursor")
    assert "Cursor" in card.text and str(config) in card.text, card.text
    assert "theirs" in card.text  # listed as someone else's entry

    card.find_element(By.CSS_SELECTOR, '[data-testid="host-server"][data-server="fx"]').click()
    card.find_element(By.CSS_SELECTOR, '[data-testid="host-review"]').click()
    diff = find(driver, '[data-testid="host-diff"]')
    assert '+    "fx": {' in diff.text, diff.text
    assert '"theirs"' in diff.text  # context, unchanged
    assert config.read_text() == ORIGINAL, "reviewing must not write"
    wait_for(lambda: find(driver, '[data-testid="host-preview"]').is_displayed(), what="the dialog shown")
    driver.save_screenshot(str(SCREENSHOTS / "hosts-diff.png"))

    find(driver, '[data-testid="host-write"]').click()
    wait_for(lambda: '"fx"' in config.read_text(), what="our entry written")
    wait_for(lambda: not driver.find_elements(By.CSS_SELECTOR, '[data-testid="host-preview"]'), what="the dialog closed")
    written = json.loads(config.read_text())
    assert written["keep"] == {"me": "exactly"}
    assert written["mcpServers"]["theirs"] == {"command": "their-server"}
    assert written["mcpServers"]["fx"]["command"] == str(FIXTURE)
    notice = find(driver, '[data-testid="hosts-notice"]')
    assert "Wrote" in notice.text
    wait_for(lambda: "in sync" in host_card(driver, "cursor").text, what="the entry shown in sync")

    # Someone else removes our entry: the guardian reports it, the badge appears.
    config.write_text(ORIGINAL)
    wait_for(
        lambda: host_card(driver, "cursor").find_elements(By.CSS_SELECTOR, '[data-testid="host-drift"]'),
        timeout=20,
        what="the drift badge",
    )
    assert "removed by someone else" in host_card(driver, "cursor").text
    driver.save_screenshot(str(SCREENSHOTS / "hosts.png"))
    host_card(driver, "cursor").find_element(By.CSS_SELECTOR, '[data-testid="host-reapply"]').click()
    find(driver, '[data-testid="host-diff"]')
    find(driver, '[data-testid="host-write"]').click()
    wait_for(lambda: '"fx"' in config.read_text(), what="the entry re-applied")
    # The file is written before the window hears back: the dialog closes a moment later.
    wait_for(lambda: not driver.find_elements(By.CSS_SELECTOR, '[data-testid="host-preview"]'), what="the dialog closed")

    # Undo the re-apply: the file is back to what the other program left, byte for byte.
    host_card(driver, "cursor").find_element(By.CSS_SELECTOR, '[data-testid="host-undo"]').click()
    wait_for(lambda: config.read_text() == ORIGINAL, what="the undo")
    assert scratch.cli("hosts", "status").returncode == 0


CLAUDE_ORIGINAL = '{\n  "mcpServers": {\n    "mine": {"command": "my-own-server"}\n  },\n  "preferences": {"x": 1}\n}\n'
SECRET = "sekret-e2e-7d1f"


@pytest.fixture()
def claude_user(scratch):
    scratch.cli("add", "fx", "--env", f"FX_TOKEN={SECRET}", "--", str(FIXTURE), "ok")
    listed = json.loads(scratch.cli("hosts", "list", "--json").stdout)
    path = Path(next(h for h in listed if h["id"] == "claude-desktop")["files"][0]["path"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(CLAUDE_ORIGINAL)
    scratch.claude_config = path
    return scratch


def test_connecting_a_host_from_the_window_writes_only_a_gateway_entry_and_shows_its_budget(claude_user, driver, scratch):
    config = scratch.claude_config
    find(driver, 'button[data-view="hosts"]').click()
    card = host_card(driver, "claude-desktop")
    card.find_element(By.CSS_SELECTOR, '[data-testid="host-connect"]').click()
    diff = find(driver, '[data-testid="host-diff"]').text
    assert '"connect"' in diff and '"claude-desktop"' in diff and '"fx"' in diff, diff
    assert SECRET not in diff
    assert config.read_text() == CLAUDE_ORIGINAL, "reviewing must not write"
    find(driver, '[data-testid="host-write"]').click()
    wait_for(lambda: '"connect"' in config.read_text(), what="the gateway entry written")
    written = json.loads(config.read_text())
    assert written["mcpServers"]["mine"] == {"command": "my-own-server"} and written["preferences"] == {"x": 1}
    assert written["mcpServers"]["fx"]["args"] == ["connect", "--host", "claude-desktop", "--server", "fx"]
    assert SECRET not in config.read_text(), "a server's secret reached the host's file"
    notice = find(driver, '[data-testid="hosts-notice"]').text
    assert "Connected Claude Desktop" in notice and "Restart it" in notice, notice

    # Connected, with its tool budget; a tool denied from the command line comes off it.
    budget = lambda: host_card(driver, "claude-desktop").find_element(By.CSS_SELECTOR, '[data-testid="host-budget"]').text
    before = wait_for(lambda: budget() if "tools" in budget() and not budget().startswith("0 ") else None,
                      what="the budget with the running server's tools")
    count = int(before.split()[0])
    assert "Connected to Switchboard" in host_card(driver, "claude-desktop").text
    # Turned off in the host's view, from its card: the budget drops by one, the setting is saved.
    host_card(driver, "claude-desktop").find_element(By.CSS_SELECTOR, '[data-testid="host-edit-view"]').click()
    find(driver, '[data-testid="view-tool"][data-tool="fx:hang"]').click()
    wait_for(lambda: budget().startswith(f"{count - 1} tools"), what="one tool fewer in the budget")
    views = json.loads(scratch.settings.read_text())["hostViews"]
    assert views["claude-desktop"]["tools"]["fx"]["deny"] == ["hang"], views
    assert not find(driver, '[data-testid="view-tool"][data-tool="fx:hang"]').is_selected()
    driver.save_screenshot(str(SCREENSHOTS / "hosts-connected.png"))

    # Disconnect gives the file back byte for byte.
    host_card(driver, "claude-desktop").find_element(By.CSS_SELECTOR, '[data-testid="host-disconnect"]').click()
    find(driver, '[data-testid="host-write"]').click()
    wait_for(lambda: config.read_text() == CLAUDE_ORIGINAL, what="the file restored")
    wait_for(lambda: host_card(driver, "claude-desktop").find_elements(By.CSS_SELECTOR, '[data-testid="host-connect"]'),
             what="the Connect button back")


def test_an_entry_the_user_wrote_is_imported_from_the_window(claude_user, scratch):
    config = scratch.claude_config
    scratch.cli("hosts", "connect", "claude-desktop")
    browser, stop = start_driver(scratch)
    try:
        find(browser, 'button[data-view="hosts"]').click()
        unmanaged = find(browser, '[data-host="claude-desktop"] [data-testid="host-unmanaged"]')
        assert "mine" in unmanaged.text, unmanaged.text
        unmanaged.find_element(By.CSS_SELECTOR, '[data-testid="host-import"][data-entry="mine"]').click()
        diff = find(browser, '[data-testid="host-diff"]').text
        assert '"mine"' in diff and '"connect"' in diff, diff
        assert "my-own-server" in config.read_text(), "reviewing must not write"
        find(browser, '[data-testid="host-write"]').click()
        wait_for(lambda: "my-own-server" not in config.read_text(), what="the entry replaced")
        entry = json.loads(config.read_text())["mcpServers"]["mine"]
        assert entry["args"] == ["connect", "--host", "claude-desktop", "--server", "mine"], entry
        assert "Imported mine" in find(browser, '[data-testid="hosts-notice"]').text
        registered = {s["name"]: s for s in scratch.listed()}
        assert registered["mine"]["command"] == "my-own-server", registered
    finally:
        browser.quit()
        stop()
        no_app_left()
