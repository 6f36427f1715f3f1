"""Public pages on a phone and the desktop board in a real Chromium: targets a thumb can hit,
even columns, the whole edit link, and the organizer's untitled stickies with their pictures."""

from __future__ import annotations

import pytest
from test_app_browser_pages import demo_codes, resolve

pytestmark = pytest.mark.browser

# Every link, button and field a phone shows that is smaller than 44 x 44 px: (text, w, h).
SMALL_TARGETS = """() => [...document.querySelectorAll(
    'a[href], button, input:not([type=hidden]), select, summary, textarea')]
  .filter(e => e.checkVisibility() && !e.closest('.description, .links'))
  .map(e => {
    const r = e.getBoundingClientRect();
    return [(e.textContent || e.getAttribute('aria-label') || e.name || '').trim().slice(0, 30),
            Math.round(r.width), Math.round(r.height)];
  })
  .filter(([, w, h]) => w < 44 || h < 44)"""


@pytest.mark.parametrize(
    "path", ["/board", "/people", "/people?q=python", "/s/SESSION", "/s/PERSON"]
)
def test_phone_page_targets_are_44px_at_least(open_page, demo_server, path):
    page = open_page(resolve(path, demo_codes(demo_server)), "phone")
    assert page.evaluate(SMALL_TARGETS) == []


def test_edit_link_after_a_claim_shows_whole_on_a_phone(browser, server, wall_event):
    from app_helpers import claim_path

    from app.services.stickies import get_sticky

    path = claim_path(get_sticky(wall_event["stickies"][0]["code"]))
    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        page.goto(server.url + path)
        page.fill("#title", "Testing without mocks")
        page.fill("#host", "Priya")
        page.get_by_role("button", name="Claim this sticky").click()
        field = page.locator("#edit-link")
        link = field.input_value()
        assert link.startswith(server.url + "/s/") and "/edit" in link
        # Nothing of it is scrolled out of sight: the field is as large as the whole link.
        width, seen_width, height, seen_height = field.evaluate(
            "e => [e.scrollWidth, e.clientWidth, e.scrollHeight, e.clientHeight]"
        )
        assert width <= seen_width and height <= seen_height
    finally:
        context.close()
