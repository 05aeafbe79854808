"""The Knowledge base view through the real window: on first start the app registered its
built-in server over a default folder with a welcome document and started it; the view shows the
index's state and document count, a document saved into the folder is found through the search
box with its matched terms highlighted, and a query syntax error is shown as such."""

import os
import pathlib
import signal

import pytest
from selenium.webdriver.common.by import By

from conftest import SCREENSHOTS, app_processes, find, no_app_left, start_driver, wait_for


@pytest.fixture()
def first_start(scratch):
    scratch.offer_knowledge_base()
    return scratch


def test_the_built_in_knowledge_base_indexes_and_searches(first_start, driver, scratch):
    folder = scratch.home / "knowledge-base"
    wait_for(lambda: (folder / "Welcome.md").is_file(), what="the default folder and its welcome document")
    (folder / "herons.md").write_text(
        "---\ntitle: Heron field notes\ntags: [birds]\n---\n\n# Heron field notes\n\n"
        "## Nesting\n\nGrey herons nest in tall trees, in colonies called heronries.\n"
    )
    find(driver, 'button[data-view="kb"]').click()
    state = find(driver, '[data-testid="kb-server-state"]')
    wait_for(lambda: "running" in state.text, timeout=60, what="the knowledge-base server running")
    folders = find(driver, '[data-testid="kb-folders"]')
    assert str(folder) in folders.text
    documents = find(driver, '[data-testid="kb-documents"]')
    wait_for(lambda: documents.text.startswith("2 "), timeout=30, what="two documents indexed")
    assert "index ready" in find(driver, '[data-testid="kb-index-state"]').text

    query = find(driver, '[data-testid="kb-query"]')
    query.send_keys("where do herons nest")
    find(driver, '[data-testid="kb-search"]').click()
    hits = find(driver, '[data-testid="kb-hits"]')
    first = wait_for(lambda: hits.find_elements(By.CSS_SELECTOR, '[data-testid="kb-hit"]'), what="search hits")[0]
    text = first.get_attribute("textContent")
    assert "Heron field notes" in text and "Nesting" in text, text
    assert "kb://knowledge-base/herons.md#nesting" in text, text
    marked = [m.text for m in first.find_elements(By.TAG_NAME, "mark")]
    assert "herons" in [m.lower() for m in marked], marked
    driver.save_screenshot(str(SCREENSHOTS / "knowledge-base.png"))

    query.clear()
    query.send_keys("colour:red")
    find(driver, '[data-testid="kb-search"]').click()
    error = find(driver, '[data-testid="kb-search-error"]')
    wait_for(lambda: 'no field "colour"' in error.text, what="the query error")


def test_a_second_folder_is_added_from_the_view(first_start, driver, scratch):
    more = scratch.root / "more-notes"
    more.mkdir()
    (more / "capybara.md").write_text("# Capybaras\n\nThe capybara is the largest rodent.\n")
    find(driver, 'button[data-view="kb"]').click()
    state = find(driver, '[data-testid="kb-server-state"]')
    wait_for(lambda: "running" in state.text, timeout=60, what="the knowledge-base server running")
    find(driver, '[data-testid="kb-new-folder"]').send_keys(str(more))
    find(driver, 'form.add button[type="submit"]').click()
    folders = find(driver, '[data-testid="kb-folders"]')
    # A deadline, not a measure: the server restarts on the new folders first (CI once took over 20 s).
    wait_for(lambda: str(more) in folders.text, timeout=60, what="the new folder listed")
    # Registered as the server's --root arguments, and the restarted server indexes it.
    entry = next(s for s in scratch.listed() if s["name"] == "knowledge-base")
    assert entry["args"][-2:] == ["--root", str(more)], entry
    # Looked up afresh each time: the count is re-rendered when the server restarts on the new
    # folders (its state change is pushed), so an element found earlier goes stale.
    wait_for(
        lambda: driver.find_element(By.CSS_SELECTOR, '[data-testid="kb-documents"]').text.startswith("2 "),
        timeout=60,
        what="the new folder's document indexed",
    )
    query = find(driver, '[data-testid="kb-query"]')
    query.send_keys("largest rodent")
    find(driver, '[data-testid="kb-search"]').click()
    hits = find(driver, '[data-testid="kb-hits"]')
    wait_for(lambda: "kb://more-notes/capybara.md" in hits.get_attribute("textContent"), what="a hit in the new folder")


def kb_processes(scratch):
    """Live `kb serve` processes over this test's folders (the server and the view's client)."""
    found = []
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and b"kb" in argv and b"serve" in argv and str(scratch.home).encode() in b" ".join(argv):
            found.append(int(entry.name))
    return found


def test_quitting_the_app_leaves_no_knowledge_base_process(first_start, scratch):
    browser, stop = start_driver(scratch)
    try:
        find(browser, 'button[data-view="kb"]').click()
        state = find(browser, '[data-testid="kb-server-state"]')
        wait_for(lambda: "running" in state.text, timeout=60, what="the knowledge-base server running")
        find(browser, '[data-testid="kb-query"]').send_keys("welcome")
        find(browser, '[data-testid="kb-search"]').click()
        find(browser, '[data-testid="kb-hits"]')
        # The supervised server and the view's own connection (a follower instance).
        assert len(kb_processes(scratch)) == 2, kb_processes(scratch)
        # Quit as the tray's Quit does (SIGTERM takes the same path). Ending the WebDriver session
        # is no quit: it closes the window, the app stays in the tray, and whether the driver then
        # kills the app is a race between it and tauri-driver's own exit.
        (app,) = app_processes()
        os.kill(app, signal.SIGTERM)
        wait_for(lambda: not app_processes(), timeout=60, what="the app to quit")
    finally:
        try:
            browser.quit()
        except Exception:
            pass  # the app it drove is gone
        stop()
    try:
        wait_for(lambda: not kb_processes(scratch), timeout=30, what="every kb serve process to end with the app")
    except AssertionError as e:
        raise AssertionError(f"{e}; still running: {describe(kb_processes(scratch))}") from None
    no_app_left()


def describe(pids):
    """Each process's pid, parent, process group, state and command line, for a failure message."""
    out = []
    for pid in pids:
        try:
            fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            argv = pathlib.Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        state, ppid, pgid = fields[0], fields[1], fields[2]
        out.append(f"pid {pid} (parent {ppid}, group {pgid}, state {state}): {b' '.join(argv).decode(errors='replace')}")
    return "; ".join(out) or "none by now"
