"""The public and organizer pages in a real Chromium: kiosk, phone board, claim form, accessibility."""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path

import pytest

from app.extensions import db
from app.models import Room, Scan, Slot, Sticky
from app.services import events as event_service
from app.services.claim_keys import claim_key

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
    if not page.evaluate("typeof axe !== 'undefined'"):
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


def demo_codes(demo_server) -> dict[str, str]:
    """Return one sticky code of each kind the pages show differently, and the blank ones' keys."""
    demo_app, _ = demo_server
    select = db.select(Sticky.code)
    queries = {
        "SESSION": select.where(Sticky.kind == "session", Sticky.board_status == "placed"),
        "CONFLICT": select.where(Sticky.board_status == "conflict"),
        "PERSON": select.where(Sticky.kind == "person", Sticky.claimed_dt.is_not(None)),
        "BLANK": select.where(Sticky.kind == "session", Sticky.claimed_dt.is_(None)),
        "BLANKPERSON": select.where(Sticky.kind == "person", Sticky.claimed_dt.is_(None)),
    }
    with demo_app.app_context():
        codes = {
            name: db.session.scalar(q.order_by(Sticky.id).limit(1)) for name, q in queries.items()
        }
        codes["ROOM"] = str(db.session.scalar(db.select(Room.id).order_by(Room.id).limit(1)))
        event = event_service.get_current_event()
        for name in ("BLANK", "BLANKPERSON"):
            codes[f"{name}KEY"] = claim_key(event=event, code=codes[name])
        codes["SLOT"] = str(db.session.scalar(db.select(Slot.id).order_by(Slot.id).limit(1)))
        codes["SCAN"] = str(db.session.scalar(db.select(Scan.id).order_by(Scan.id).limit(1)))
    return codes


def resolve(path: str, codes: dict[str, str]) -> str:
    for name in sorted(codes, key=len, reverse=True):
        path = path.replace(name, codes[name])
    return path


PUBLIC_PAGES = [
    "/board",
    "/kiosk",
    "/people?q=python",
    "/rooms/1",
    "/s/SESSION",
    "/s/CONFLICT",
    "/s/PERSON",
    "/s/BLANK",
    "/s/BLANK?k=BLANKKEY",
    "/s/BLANKPERSON?k=BLANKPERSONKEY",
    "/auth/login",
    "/camera",
    "/s/NOSUCHCODE",
]
ORGANIZER_PAGES = [
    "/admin/",
    "/admin/stickies",
    "/admin/stickies/SESSION",
    "/admin/rooms/ROOM",
    "/admin/print/",
    "/scan",
    "/admin/scans",
    "/admin/scans/SCAN",
    "/admin/timelapse",
    "/admin/transcribe",
    "/admin/news/",
    "/admin/notes",
    "/s/SESSION/edit",
]


@pytest.mark.parametrize(
    "path, organizer",
    [(p, False) for p in PUBLIC_PAGES] + [(p, True) for p in ORGANIZER_PAGES],
)
def test_page_has_no_serious_accessibility_violation(open_page, demo_server, path, organizer):
    """Check each page at phone size, then at desktop size: the layout follows the viewport."""
    page = open_page(resolve(path, demo_codes(demo_server)), "phone", organizer=organizer)
    found = {"phone": serious_violations(page)}
    page.set_viewport_size({"width": 1440, "height": 900})
    found["desktop"] = serious_violations(page)
    assert found == {"phone": [], "desktop": []}


def test_phone_board_lists_every_room_without_sideways_scrolling(open_page, demo_server):
    demo_app, _ = demo_server
    with demo_app.app_context():
        rooms = [r.name for r in event_service.get_current_event().rooms]
    page = open_page("/board", "phone")
    assert page.evaluate("document.documentElement.scrollWidth") == 390
    assert page.locator(".grid-scroll").first.is_hidden()
    shown = page.locator(".slot-list > .slot-group").all_inner_texts()
    assert [room for room in rooms if not any(room in text for text in shown)] == []
    first = page.locator(".slot-list > .slot-group").first
    assert "now" in first.get_attribute("class").split()


def test_board_breaks_no_title_inside_a_word(open_page):
    """Every word of a title sits on one line, at phone and desktop width."""
    for size in ("phone", "desktop"):
        page = open_page("/board", size)
        broken = page.evaluate(
            """() => {
              const broken = [];
              for (const el of document.querySelectorAll('.note-title')) {
                if (!el.checkVisibility()) continue;
                const text = el.firstChild;
                let at = 0;
                for (const word of text.textContent.split(' ')) {
                  const range = document.createRange();
                  range.setStart(text, at);
                  range.setEnd(text, at + word.length);
                  const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
                  if (tops.size > 1) broken.push(word);
                  at += word.length + 1;
                }
              }
              return broken;
            }"""
        )
        assert broken == []


def test_desktop_board_keeps_room_row_and_time_column_in_view(open_page):
    page = open_page("/board", "desktop")
    page.set_viewport_size({"width": 900, "height": 500})
    scroller = page.locator(".grid-scroll").first
    scroller.evaluate("el => el.scrollTo(400, 300)")
    head = page.locator(".grid thead th.room-head").first.bounding_box()
    time_col = page.locator(".grid .slot-head").last.bounding_box()
    box = scroller.bounding_box()
    assert abs(head["y"] - box["y"]) <= 2
    assert abs(time_col["x"] - box["x"]) <= 2


def test_claim_button_is_above_the_fold_on_a_phone(open_page, demo_server):
    page = open_page(resolve("/s/BLANK?k=BLANKKEY", demo_codes(demo_server)), "phone")
    button = page.get_by_role("button", name="Claim this sticky").bounding_box()
    assert button["y"] + button["height"] <= 844
    assert page.locator("#title").get_attribute("required") is not None
    assert page.locator("details.more").get_attribute("open") is None


def test_typed_claim_key_opens_the_claim_form_on_a_phone(open_page, demo_server):
    codes = demo_codes(demo_server)
    page = open_page(resolve("/s/BLANK", codes), "phone")
    assert page.locator("h1").inner_text() == "Claim this sticky at the wall"
    page.get_by_label("Claim key").fill(codes["BLANKKEY"].lower())
    page.get_by_role("button", name="Claim this sticky").click()
    page.wait_for_selector("#title")
    assert page.locator("h1").inner_text() == "Claim this sticky for your session"


def test_kiosk_pages_through_rooms_that_do_not_fit(browser, demo_server):
    demo_app, base = demo_server
    with demo_app.app_context():
        rooms = [r.name for r in event_service.get_current_event().rooms]
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    try:
        page = context.new_page()
        page.goto(f"{base}/kiosk")
        pages = page.evaluate("window.openspacesKiosk.pages()")
        assert pages > 1
        seen = []
        for _ in range(pages):
            shown = page.locator("th.kiosk-room:visible").all_inner_texts()
            assert shown and page.evaluate("document.documentElement.scrollHeight") == 720
            seen += shown
            page.evaluate("window.openspacesKiosk.rotate()")
        assert seen == rooms
        assert page.locator("[data-page-count]").inner_text() == f"1/{pages}"
    finally:
        context.close()
