"""The Tester view through the real window: connect to the fixture server as an ad-hoc command,
fill the generated form for `echo`, run it, see `Echo: ...` with its timing; a schema with $defs,
anyOf, enums and arrays (`ship`) renders a usable form; invalid arguments are refused before
anything is sent; the traffic log and the history show the calls."""

from selenium.webdriver.common.by import By
from selenium.webdriver.support.select import Select

from conftest import FIXTURE, SCREENSHOTS, find, wait_for


def open_tester(driver):
    find(driver, 'button[data-view="tester"]').click()
    find(driver, 'input[type="radio"][value="command"]').click()
    command = find(driver, "#t-command")
    command.clear()
    command.send_keys(f"{FIXTURE} ok --tag e2e-tester")
    find(driver, '[data-testid="connect"]').click()
    negotiated = find(driver, '[data-testid="negotiated"]')
    wait_for(lambda: "2026-07-28" in negotiated.text, what="negotiated revision")
    return negotiated.text


def type_into(driver, css, text):
    element = find(driver, css)
    element.clear()
    element.send_keys(text)


def result_text(driver):
    return find(driver, '[data-testid="result"]').text


def test_echo_through_the_generated_form(driver, scratch):
    negotiated = open_tester(driver)
    assert "stdio" in negotiated
    find(driver, 'button[data-tool="echo"]').click()
    # The form marks `message` required.
    label = find(driver, 'label[for="field-message"]')
    assert "*" in label.text
    type_into(driver, '[data-path="message"]', "hello from the window")
    find(driver, '[data-testid="run"]').click()
    wait_for(lambda: "Echo: hello from the window" in result_text(driver), what="echo result")
    status = find(driver, '[data-testid="call-status"]').text
    assert status.startswith("OK") and " ms" in status, status
    driver.save_screenshot(str(SCREENSHOTS / "tester-echo.png"))

    # Traffic: the tools/call went out and came back with a latency.
    find(driver, '[data-testid="tab-traffic"]').click()
    table = find(driver, '[data-testid="traffic"]')
    wait_for(lambda: "tools/call" in table.text, what="tools/call in traffic")
    assert "server/discover" in table.text
    driver.save_screenshot(str(SCREENSHOTS / "tester-traffic.png"))

    # History: the call is there, and can be run again.
    find(driver, '[data-testid="tab-history"]').click()
    history = find(driver, '[data-testid="history"]')
    driver.save_screenshot(str(SCREENSHOTS / "tester-history.png"))
    # textContent: WebKitWebDriver leaves cells with `overflow: hidden` out of `.text`.
    wait_for(lambda: "Echo: hello from the window" in history.get_attribute("textContent"), what="history entry")

    history.find_element(By.XPATH, './/button[text()="Run again"]').click()
    wait_for(lambda: "Echo: hello from the window" in result_text(driver), what="replayed result")


def test_a_schema_with_defs_and_any_of_renders_a_usable_form(driver, scratch):
    open_tester(driver)
    find(driver, 'button[data-tool="ship"]').click()
    # $ref'd object: its fields are there, required ones marked.
    type_into(driver, '[data-path="destination.street"]', "1 Main St")
    type_into(driver, '[data-path="destination.city"]', "Oslo")
    assert "*" in find(driver, 'label[for="field-destination_city"]').text
    # $ref'd enum with a default: a select showing the default.
    priority = Select(find(driver, 'select[data-path="priority"]'))
    assert priority.first_selected_option.text == "normal"
    priority.select_by_visible_text("urgent")
    # anyOf: a variant picker; switch from email to phone.
    variant = Select(find(driver, 'select[data-variant="contact"]'))
    assert [o.text for o in variant.options] == ["{ email }", "{ phone }"]
    variant.select_by_index(1)
    type_into(driver, '[data-path="contact.phone"]', "555-0100")
    # Array of $ref'd objects: add an item, fill it; its quantity defaults to 1.
    find(driver, 'button[data-add="items"]').click()
    type_into(driver, '[data-path="items.0.sku"]', "BOOK-1")
    assert find(driver, '[data-path="items.0.quantity"]').get_attribute("value") == "1"
    find(driver, '[data-path="gift"]').click()
    driver.save_screenshot(str(SCREENSHOTS / "tester-form.png"))
    find(driver, '[data-testid="run"]').click()
    expected = "Shipping 1 item(s) [BOOK-1] to 1 Main St, Oslo (Urgent, gift-wrapped); contact 555-0100"
    wait_for(lambda: expected in result_text(driver), what="ship result")


def test_invalid_arguments_are_refused_before_sending(driver, scratch):
    open_tester(driver)
    find(driver, 'button[data-tool="huge"]').click()
    find(driver, '[data-testid="tool-form"]').find_element(By.XPATH, './/button[text()="Raw JSON"]').click()
    type_into(driver, '[data-testid="raw-args"]', '{"bytes": "lots"}')
    find(driver, '[data-testid="run"]').click()
    error = find(driver, '[data-testid="call-error"]')
    wait_for(lambda: "Not sent" in error.text and "/bytes" in error.text, what="validation error")
    find(driver, '[data-testid="tab-traffic"]').click()
    table = find(driver, '[data-testid="traffic"]')
    assert "tools/call" not in table.text, "invalid arguments must not reach the server"
