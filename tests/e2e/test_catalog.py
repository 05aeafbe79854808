"""The Catalog view through the real window: search finds the reference server, its card shows
runtime and transport badges, the install dialog is generated from what the entry declares and
shows the exact command before anything runs, Install shows progress and then the tools the
server answered with, and the server is registered and running (checked with the CLI)."""

import os
import time
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By

from conftest import SCREENSHOTS, find, wait_for

ENTRY = "io.github.modelcontextprotocol/server-everything"


@pytest.fixture(autouse=True)
def warm_npm_cache(scratch):
    # The test's HOME is private; npm may still use the machine's cache, so the install does not
    # depend on how fast the registry answers today.
    scratch.env["npm_config_cache"] = str(Path(os.path.expanduser("~")) / ".npm")
    # No registry answers here: a refresh must fail cleanly and keep the bundled catalog.
    scratch.env["SWITCHBOARD_REGISTRY_URL"] = "http://127.0.0.1:9/"
    return scratch


def install_result(driver):
    """Waits for the dialog's result page; an install error fails the test with its text."""
    result = wait_for(
        lambda: driver.find_elements(By.CSS_SELECTOR, '[data-testid="install-result"]')
        or driver.find_elements(By.CSS_SELECTOR, '[data-testid="install-error"]'),
        timeout=120,
        what="the install to finish",
    )[0]
    assert result.get_attribute("data-testid") == "install-result", result.text
    return result


def card(driver, entry):
    return find(driver, f'article[data-entry="{entry}"]')


def test_installing_from_the_catalog_view_verifies_and_runs_the_server(driver, scratch):
    find(driver, 'button[data-view="catalog"]').click()
    wait_for(lambda: len(driver.find_elements(By.CSS_SELECTOR, "article[data-entry]")) >= 25, what="the bundled catalog")
    find(driver, '[data-testid="catalog-refresh"]').click()
    failed = wait_for(lambda: find(driver, 'p.error[role="alert"]'), what="the refresh error")
    assert "127.0.0.1:9" in failed.text and "keeps what it had" in failed.text, failed.text
    assert len(driver.find_elements(By.CSS_SELECTOR, "article[data-entry]")) >= 25
    search = find(driver, '[data-testid="catalog-search"]')
    search.send_keys("everything")
    wait_for(lambda: len(driver.find_elements(By.CSS_SELECTOR, "article[data-entry]")) == 1, what="one match")
    everything = card(driver, ENTRY)
    chips = everything.text
    assert "npm" in chips and "stdio" in chips, chips
    wait_for(everything.is_displayed, what="the card shown")
    time.sleep(1.0)  # let the webview paint before the screenshot
    driver.save_screenshot(str(SCREENSHOTS / "catalog.png"))

    everything.find_element(By.CSS_SELECTOR, "button.primary").click()
    dialog = find(driver, '[data-testid="install-dialog"]')
    wait_for(lambda: "@modelcontextprotocol/server-everything@2026.8.31" in dialog.text, what="the command shown")
    assert "install --prefix" in dialog.text, dialog.text
    wait_for(dialog.is_displayed, what="the dialog shown")
    time.sleep(0.3)
    driver.save_screenshot(str(SCREENSHOTS / "catalog-install.png"))
    assert scratch.listed() == [], "nothing may be installed before Install is pressed"

    find(driver, '[data-testid="install-go"]').click()
    result = install_result(driver)
    assert "Installed server-everything" in result.text, result.text
    assert "echo" in result.text and "get-sum" in result.text, result.text
    time.sleep(0.3)
    driver.save_screenshot(str(SCREENSHOTS / "catalog-installed.png"))

    status = scratch.status()["server-everything"]
    assert status["state"]["kind"] == "running", status
    assert status["binary"].endswith("node"), status

    find(driver, '[data-testid="install-dialog"] button:not(.primary)').click()
    find(driver, 'button[data-view="servers"]').click()
    wait_for(lambda: "server-everything" in find(driver, "main").text, what="the Servers view to list it")


def test_the_install_dialog_asks_for_what_the_entry_declares(driver, scratch):
    shared = scratch.root / "shared-folder"
    shared.mkdir()
    find(driver, 'button[data-view="catalog"]').click()
    find(driver, '[data-testid="catalog-search"]').send_keys("filesystem")
    wait_for(lambda: len(driver.find_elements(By.CSS_SELECTOR, "article[data-entry]")) == 1, what="one match")
    card(driver, "io.github.modelcontextprotocol/server-filesystem").find_element(By.CSS_SELECTOR, "button.primary").click()
    dialog = find(driver, '[data-testid="install-dialog"]')
    field = wait_for(lambda: dialog.find_element(By.CSS_SELECTOR, '[data-field="allowed_directory"]'), what="the field")
    assert "required" in dialog.text, dialog.text
    wait_for(lambda: "@modelcontextprotocol/server-filesystem@2026.8.31" in dialog.text, what="the command shown")

    # Nothing is sent while a required answer is missing.
    find(driver, '[data-testid="install-go"]').click()
    wait_for(lambda: "Required" in dialog.text, what="the missing answer named")
    assert scratch.listed() == []

    field.send_keys(str(shared))
    find(driver, '[data-testid="install-go"]').click()
    result = install_result(driver)
    assert "read_text_file" in result.text, result.text
    [entry] = scratch.listed()
    assert entry["name"] == "server-filesystem" and entry["args"][-1] == str(shared), entry
    assert scratch.status()["server-filesystem"]["state"]["kind"] == "running"
