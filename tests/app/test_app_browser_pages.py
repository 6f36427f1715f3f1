"""The public and organizer pages in a real Chromium: kiosk, phone board, claim form, accessibility."""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path

import pytest

from app.extensions import db
from app.models import Room
from app.services import events as event_service

pytestmark = pytest.mark.browser

# Every text node a page shows, with its computed font size in px.
VISIBLE_TEXT_SIZES = """() => {
  const sizes = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (!node.textContent.trim()) continue;
    const el = node.parentElement;
    const box = el.getBoundingClientRect();
    if (!el.checkVisibility() || box.width <= 1 || box.height <= 1) continue;
    sizes.push([node.textContent.trim().slice(0, 40), parseFloat(getComputedStyle(el).fontSize)]);
  }
  return sizes;
}"""


@cache
def axe_source() -> str:
    import axe_playwright_python

    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()


def serious_violations(page) -> list[str]:
    """Run the packaged axe-core on the page; return its serious and critical violations."""
    page.evaluate(axe_source())
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def demo_slots(demo_server) -> list[tuple[dt.datetime, dt.datetime, str]]:
    demo_app, _ = demo_server
    with demo_app.app_context():
        event = event_service.get_current_event()
        return [(s.start_dt, s.end_dt, s.label) for s in event.slots]


def test_kiosk_moves_now_and_next_at_slot_boundary(open_page, demo_server, demo_clock):
    slots = demo_slots(demo_server)
    demo_clock.moment = slots[1][1] - dt.timedelta(seconds=2)
    page = open_page("/kiosk", "kiosk")
    assert page.locator(".kiosk-col-now").inner_text().endswith(slots[1][2])
    assert page.locator(".kiosk-col-next").inner_text().endswith(slots[2][2])
    demo_clock.moment = slots[2][0] + dt.timedelta(seconds=1)
    page.wait_for_function(
        "label => document.querySelector('.kiosk-col-now').textContent.includes(label)",
        arg=slots[2][2],
        timeout=5000,
    )
    assert page.locator(".kiosk-col-next").inner_text().endswith(slots[3][2])


def test_kiosk_shows_room_added_in_admin_within_5_seconds(open_page, demo_server):
    demo_app, _ = demo_server
    kiosk = open_page("/kiosk", "kiosk")
    admin = open_page("/admin/", organizer=True)
    admin.fill("#room-name", "Rooftop")
    admin.fill("#room-capacity", "25")
    admin.get_by_role("button", name="Add room").click()
    try:
        kiosk.locator("th.kiosk-room", has_text="Rooftop").wait_for(state="attached", timeout=5000)
    finally:
        with demo_app.app_context():
            room = db.session.scalar(db.select(Room).filter_by(name="Rooftop"))
            event_service.delete_room(room=room)
            db.session.commit()


@pytest.mark.parametrize("size", [(1920, 1080), (1280, 720)])
def test_kiosk_fits_one_screen_without_small_text(browser, demo_server, size):
    _, base = demo_server
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    try:
        page = context.new_page()
        page.goto(f"{base}/kiosk")
        scroll = page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
        )
        assert scroll == [size[0], size[1]]
        small = [(text, px) for text, px in page.evaluate(VISIBLE_TEXT_SIZES) if px < 24]
        assert small == []
        titles = page.evaluate(
            "[...document.querySelectorAll('.kiosk-title')].map("
            "e => parseFloat(getComputedStyle(e).fontSize))"
        )
        assert titles and min(titles) >= 48
        assert page.locator(".kiosk-head svg.qr").count() == 1
    finally:
        context.close()
