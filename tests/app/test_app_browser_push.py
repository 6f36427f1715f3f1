"""Web Push in Chromium: the service worker shows a pushed message as a notification.

The message is handed to the worker through Chromium's DevTools (ServiceWorker.deliverPushMessage),
as a push service would; its encryption and VAPID signature are checked in test_app_push.py.
"""

from __future__ import annotations

import json
import time

import pytest

pytestmark = [pytest.mark.browser]

SQLITE = pytest.mark.parametrize("live_server", ["sqlite"], indirect=True)


@pytest.fixture
def context(browser, live_server):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    context.grant_permissions(["notifications"], origin=live_server.url)
    yield context
    context.close()


def registration_id(page, cdp, scope: str, *, timeout: float = 10.0) -> str:
    """Return the DevTools id of the service worker registration at ``scope``."""
    seen: dict[str, str] = {}

    def updated(params):
        for registration in params["registrations"]:
            if not registration["isDeleted"]:
                seen[registration["scopeURL"]] = registration["registrationId"]

    cdp.on("ServiceWorker.workerRegistrationUpdated", updated)
    cdp.send("ServiceWorker.enable")
    deadline = time.monotonic() + timeout
    while scope not in seen and time.monotonic() < deadline:
        page.wait_for_timeout(100)  # Playwright hands over DevTools events while it waits
    assert scope in seen, f"no service worker registered at {scope}: {seen}"
    return seen[scope]


NOTIFICATIONS = """async () => {
  const registration = await navigator.serviceWorker.ready;
  const shown = await registration.getNotifications();
  return shown.map(n => ({title: n.title, body: n.body, tag: n.tag, url: n.data && n.data.url}));
}"""


@SQLITE
def test_push_message_shows_as_a_notification_that_a_newer_one_of_the_session_replaces(
    live_server, context
):
    code = live_server.session_sticky(title="Rust for Pythonistas")
    page = context.new_page()
    page.goto(f"{live_server.url}/s/{code}")
    page.get_by_role("button", name="I'm interested").click()
    page.wait_for_load_state()
    # Marked: the page offers notifications on this phone.
    page.get_by_role("button", name="Notify me on this phone").wait_for(state="visible")
    page.wait_for_function("navigator.serviceWorker.ready.then(() => true)")

    cdp = context.new_cdp_session(page)
    registration = registration_id(page, cdp, f"{live_server.url}/")
    url = f"{live_server.url}/s/{code}"
    for body in (
        "“Rust for Pythonistas” is now in Hall B",
        "“Rust for Pythonistas” is now in Hall A",
    ):
        news = {"title": "Session moved", "body": body, "url": url, "tag": code}
        cdp.send(
            "ServiceWorker.deliverPushMessage",
            {"origin": live_server.url, "registrationId": registration, "data": json.dumps(news)},
        )
    deadline = time.monotonic() + 10
    shown = page.evaluate(NOTIFICATIONS)
    while not (shown and shown[0]["body"].endswith("Hall A")) and time.monotonic() < deadline:
        page.wait_for_timeout(100)
        shown = page.evaluate(NOTIFICATIONS)
    assert shown == [
        {
            "title": "Session moved",
            "body": "“Rust for Pythonistas” is now in Hall A",
            "tag": code,
            "url": url,
        }
    ]
