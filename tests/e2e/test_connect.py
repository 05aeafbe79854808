"""Connecting AI apps through the real window: the first start finds Claude Desktop and Cursor
(their config files in the test's own HOME) and offers, in one dialog, to connect them; nothing
is written until Connect; then a server installed from the Catalog is available in both, the
install dialog saying where (and that Claude Desktop must be restarted), and Claude Desktop's
file has it only as a `switchboard connect` entry. The offer is made once."""

import json
import os
import time
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By

from conftest import SCREENSHOTS, find, no_app_left, start_driver, wait_for
from test_catalog import ENTRY, card, install_result

CLAUDE = '{\n  "mcpServers": {}\n}\n'
CURSOR = '{\n  "mcpServers": {\n    "theirs": {"command": "their-server"}\n  }\n}\n'


@pytest.fixture()
def first_start(scratch):
    scratch.settings.write_text('{"knowledgeBaseOffered": true}\n')
    scratch.env["npm_config_cache"] = str(Path(os.path.expanduser("~")) / ".npm")
    scratch.env["SWITCHBOARD_REGISTRY_URL"] = "http://127.0.0.1:9/"
    listed = json.loads(scratch.cli("hosts", "list", "--json").stdout)
    path_of = lambda host: Path(next(h for h in listed if h["id"] == host)["files"][0]["path"])
    scratch.claude, scratch.cursor = path_of("claude-desktop"), path_of("cursor")
    for path, text in ((scratch.claude, CLAUDE), (scratch.cursor, CURSOR)):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return scratch


def test_the_first_start_offers_to_connect_the_apps_found_and_installs_then_reach_them(first_start, scratch):
    browser, stop = start_driver(scratch)
    try:
        dialog = find(browser, '[data-testid="first-run"]')
        offered = {b.get_attribute("data-host") for b in dialog.find_elements(By.CSS_SELECTOR, '[data-testid="first-run-host"]')}
        assert {"claude-desktop", "cursor"} <= offered, offered
        assert scratch.claude.read_text() == CLAUDE and scratch.cursor.read_text() == CURSOR, "nothing before consent"
        # The change can be seen first.
        dialog.find_elements(By.CSS_SELECTOR, '[data-testid="first-run-show"]')[0].click()
        wait_for(lambda: find(browser, '[data-testid="first-run-diff"]').text, what="a diff")
        # Only the two apps this test made.
        for box in dialog.find_elements(By.CSS_SELECTOR, '[data-testid="first-run-host"]'):
            if box.get_attribute("data-host") not in ("claude-desktop", "cursor") and box.is_selected():
                box.click()
        find(browser, '[data-testid="first-run-connect"]').click()
        done = find(browser, '[data-testid="first-run-done"]').text
        assert "Claude Desktop (restart it)" in done and "Cursor" in done, done
        browser.save_screenshot(str(SCREENSHOTS / "first-run.png"))
        assert json.loads(scratch.settings.read_text())["hostsOffered"] is True
        cursor = json.loads(scratch.cursor.read_text())["mcpServers"]
        assert cursor["theirs"] == {"command": "their-server"}
        find(browser, '[data-testid="first-run-close"]').click()

        # Installing from the Catalog makes the server available in both, and says where.
        find(browser, 'button[data-view="catalog"]').click()
        find(browser, '[data-testid="catalog-search"]').send_keys("everything")
        wait_for(lambda: len(browser.find_elements(By.CSS_SELECTOR, "article[data-entry]")) == 1, what="one match")
        card(browser, ENTRY).find_element(By.CSS_SELECTOR, "button.primary").click()
        find(browser, '[data-testid="install-go"]').click()
        install_result(browser)
        available = find(browser, '[data-testid="install-available"]').text
        assert "Claude Desktop (restart Claude Desktop to see it)" in available and "Cursor" in available, available
        claude = json.loads(scratch.claude.read_text())["mcpServers"]
        entry = claude["server-everything"]
        assert entry["args"] == ["connect", "--host", "claude-desktop", "--server", "server-everything"], entry
        assert "npx" not in scratch.claude.read_text() and "node" not in json.dumps(entry["args"])
        assert "server-everything" in json.loads(scratch.cursor.read_text())["mcpServers"]
    finally:
        browser.quit()
        stop()
        no_app_left()

    # The offer is made once.
    browser, stop = start_driver(scratch)
    try:
        find(browser, 'button[data-view="servers"]')
        time.sleep(1.5)  # the offer would be up by now
        assert not browser.find_elements(By.CSS_SELECTOR, '[data-testid="first-run"]')
    finally:
        browser.quit()
        stop()
        no_app_left()
