"""The web chat page at / in a real browser: Debian's headless Chromium driven by Selenium
(chromium-driver), as a person uses it. Screenshots of each step are kept in
$INFER_TEST_ARTIFACTS (ctest: build/test_artifacts)."""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import time

import pytest
from server_process import HAVE_SERVER, WHY_NOT, Server

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")
ARTIFACTS = os.environ.get("INFER_TEST_ARTIFACTS", os.path.join(tempfile.gettempdir(), "libinfer_test_artifacts"))

pytestmark = [
    pytest.mark.skipif(not HAVE_SERVER, reason=WHY_NOT),
    pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER), reason="needs Debian's chromium and chromium-driver"),
]


@pytest.fixture(scope="module")
def server():
    s = Server("--max_seq_len", "1024")
    yield s
    assert s.stop() == 0


@pytest.fixture()
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1200,900"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path=CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def wait(browser, condition, seconds=120):
    return WebDriverWait(browser, seconds, poll_frequency=0.05).until(lambda _: condition())


def screenshot(browser, name):
    os.makedirs(ARTIFACTS, exist_ok=True)
    browser.save_screenshot(os.path.join(ARTIFACTS, f"chat_page_{name}.png"))


def set_field(browser, field_id, value):
    field = browser.find_element(By.ID, field_id)
    field.clear()
    field.send_keys(value)
    field.send_keys(Keys.TAB)  # "change": the page stores it


def messages(browser):
    """(role, text) of each message shown, read in one go (the page re-renders as replies end)."""
    return [tuple(m) for m in browser.execute_script(
        "return [...document.querySelectorAll('#messages .message')].map("
        "m => [m.classList[1], m.querySelector('.text').innerText])")]


def idle(browser):
    return browser.find_element(By.ID, "stop").get_attribute("disabled") is not None


def replies(browser) -> int:
    """Replies ended so far (the page counts them when the session has recorded each)."""
    return int(browser.execute_script("return document.body.dataset.replies || '0'"))


def reply_to(browser, action):
    """Does `action` and waits until the reply it starts has ended."""
    before = replies(browser)
    action()
    wait(browser, lambda: replies(browser) > before and idle(browser))


def send(browser, text):
    box = browser.find_element(By.ID, "input")
    box.send_keys(text)
    box.send_keys(Keys.ENTER)


def session(server, sid):
    status, data = server.request("GET", f"/v1/sessions/{sid}")
    assert status == 200, data
    return json.loads(data)


def metrics(server):
    status, data = server.request("GET", "/metrics")
    lines = [line.rsplit(" ", 1) for line in data.decode().splitlines() if line and not line.startswith("#")]
    return {name: float(value) for name, value in lines}


def test_chat_stop_rollback_switch_and_reload(server, browser):
    browser.get(server.url + "/")
    browser.find_element(By.TAG_NAME, "summary").click()  # the settings
    set_field(browser, "temperature", "0")
    set_field(browser, "max-tokens", "40")

    # A streamed reply, with its statistics.
    reply_to(browser, lambda: send(browser, "What is the capital of France?"))
    assert len(messages(browser)) == 2
    assert "Paris" in messages(browser)[1][1]
    stats = browser.find_element(By.CSS_SELECTOR, ".message.assistant .stats").text
    assert "tokens/s" in stats and "prompt tokens reused" in stats, stats
    sid = browser.execute_script("return localStorage.getItem('libinfer.session')")
    assert session(server, sid)["messages"][1]["content"] == messages(browser)[1][1]
    screenshot(browser, "1_reply")

    # Stop mid-reply: the request ends on the server and the session keeps the reply so far.
    set_field(browser, "max-tokens", "600")
    send(browser, "Write a long story about a dragon who learns to bake bread.")
    wait(browser, lambda: len(messages(browser)) == 4 and len(messages(browser)[3][1]) > 20)
    reply_to(browser, lambda: browser.find_element(By.ID, "stop").click())
    screenshot(browser, "2_stopped")
    kept = session(server, sid)
    assert kept["turns"] == 2 and 0 < len(kept["messages"][3]["content"])
    assert kept["messages"][3]["content"] == messages(browser)[3][1]
    wait(browser, lambda: metrics(server)["infer_requests_running"] == 0, 30)
    assert metrics(server)["infer_generated_tokens_total"] < 2 * 600, "the stopped reply ran on"

    # Roll back to before the story.
    story_box = browser.find_elements(By.CSS_SELECTOR, ".message.user")[1]
    story_box.find_element(By.XPATH, ".//button[text()='Roll back']").click()
    wait(browser, lambda: len(messages(browser)) == 2)
    assert session(server, sid)["turns"] == 1
    screenshot(browser, "3_rolled_back")

    # Regenerate the last reply: greedy, so the same text again.
    first_reply = messages(browser)[1][1]
    reply_to(browser, lambda: browser.find_element(By.XPATH, "//button[text()='Regenerate']").click())
    assert len(messages(browser)) == 2 and messages(browser)[1][1] == first_reply

    # Edit and resend the first message.
    browser.find_element(By.XPATH, "//button[text()='Edit']").click()
    field = browser.find_element(By.CSS_SELECTOR, ".message.user textarea")
    field.clear()
    field.send_keys("What is the capital of Germany?")
    reply_to(browser, lambda: browser.find_element(
        By.CSS_SELECTOR, ".message.user button[title='Send the edited message']").click())
    assert len(messages(browser)) == 2 and "Germany" in messages(browser)[0][1]
    assert "Berlin" in messages(browser)[1][1]
    assert session(server, sid)["messages"][0]["content"] == "What is the capital of Germany?"

    # A second conversation, then back to the first.
    browser.find_element(By.ID, "new-chat").click()
    wait(browser, lambda: not messages(browser))
    reply_to(browser, lambda: send(browser, "Say hello."))
    assert len(messages(browser)) == 2
    items = browser.find_elements(By.CSS_SELECTOR, "#sessions li")
    assert len(items) == 2
    next(li for li in items if li.get_attribute("data-id") == sid).click()
    wait(browser, lambda: messages(browser) and "Germany" in messages(browser)[0][1])
    screenshot(browser, "4_switched")

    # A reload finds the conversation where it was.
    browser.refresh()
    wait(browser, lambda: len(messages(browser)) == 2 and "Germany" in messages(browser)[0][1])
    assert len(browser.find_elements(By.CSS_SELECTOR, "#sessions li")) == 2
    screenshot(browser, "5_reloaded")

    # The server's errors show in the page.
    browser.find_element(By.TAG_NAME, "summary").click()
    set_field(browser, "max-tokens", "0")
    reply_to(browser, lambda: send(browser, "Hi again"))
    assert browser.find_element(By.ID, "error").is_displayed()
    assert "max_tokens" in browser.find_element(By.ID, "error").text
    screenshot(browser, "6_error")
