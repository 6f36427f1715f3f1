"""The wall screen and the board in a real Chromium, with handwritten stickies.

A six-room, eight-slot event; now and next hold five stickies written by hand (their pictures
made by the app from photographed views) and seven typed ones. Picture requests are held back in
the browser, as on a busy conference network, so the kiosk lays out before and after they arrive.
"""

from __future__ import annotations

import datetime as dt
import time

import pytest
from app_helpers import LiveServer, printed_key

from app.extensions import db
from app.models import Sticky
from app.services.events import load_event_file
from app.services.observations import parse_observations
from app.services.pictures import View, store_views
from app.services.scans import apply_scan
from app.services.stickies import SessionFields, allocate_stickies, claim_sticky
from app.settings import app_settings, configure
from benchmarks.demo_wall import event_toml

pytestmark = pytest.mark.browser

ROOMS = ["Hall A", "Hall B", "Hall C", "Terrace", "Library", "Garden"]
# Eight slots: the kiosk shows the first two (now and next), the board all of them.
SLOTS = [(f"2026-09-26T{h:02}:00", f"2026-09-26T{h:02}:45") for h in range(10, 18)]
NOW = dt.datetime(2026, 9, 26, 10, 15, tzinfo=dt.UTC)
# (room, slot index): what is written by hand on the sticky there.
WRITTEN = {
    ("Hall A", 0): "Zine making",
    ("Hall B", 1): "Open data",
    ("Hall C", 0): "Mentoring",
    ("Terrace", 1): "Kubernetes for humans",
    ("Garden", 0): "Rust",
}
SUGGESTED = "Open data"
TYPED = [
    ("Testing without mocks", "Priya"),
    ("Maps with open data", "Jonas"),
    ("Pair programming kata", "Mei"),
    ("Accessibility basics", "Ana"),
    ("Async Python", "Kofi"),
    ("Tea and typography", "Lin"),
    ("Home automation", "Sam"),
]
PICTURE_DELAY_S = 0.6

# For each picture the kiosk shows: the tallest line of writing in it, in screen pixels (ink
# rows of the picture, drawn at its natural size, scaled to its height on screen).
WRITING_HEIGHTS = """() => [...document.querySelectorAll('.kiosk-picture img')].map(img => {
  const c = document.createElement('canvas');
  c.width = img.naturalWidth; c.height = img.naturalHeight;
  const g = c.getContext('2d');
  g.drawImage(img, 0, 0);
  const px = g.getImageData(0, 0, c.width, c.height).data;
  const gray = [];
  for (let i = 0; i < px.length; i += 4) gray.push(0.3 * px[i] + 0.59 * px[i + 1] + 0.11 * px[i + 2]);
  const paper = [...gray].sort((a, b) => a - b)[Math.floor(gray.length * 0.9)];
  let run = 0, tallest = 0, gap = 0;
  for (let y = 0; y < c.height; y++) {
    let dark = 0;
    for (let x = 0; x < c.width; x++) if (gray[y * c.width + x] < 0.6 * paper) dark++;
    if (dark >= 2) { run += 1 + gap; gap = 0; tallest = Math.max(tallest, run); }
    else if (run && gap < c.height * 0.03) gap++;
    else { run = 0; gap = 0; }
  }
  return [img.closest('[data-code]').dataset.code,
          tallest * img.getBoundingClientRect().height / c.height];
})"""

# The ink height of a title typed at 48 px in the kiosk's title font.
TYPED_HEIGHT = """title => {
  const el = document.querySelector('.kiosk-title');
  const style = getComputedStyle(el);
  const g = document.createElement('canvas').getContext('2d');
  g.font = `${style.fontWeight} 48px ${style.fontFamily}`;
  const m = g.measureText(title);
  return m.actualBoundingBoxAscent + m.actualBoundingBoxDescent;
}"""

# Each room row the kiosk shows now: its name and its box's top and bottom, in screen pixels.
SHOWN_ROOMS = """() => [...document.querySelectorAll('tbody[data-rotate] tr')]
  .filter(row => row.checkVisibility())
  .map(row => [row.querySelector('th').textContent.trim(),
               row.getBoundingClientRect().top, row.getBoundingClientRect().bottom])"""


def _written_view(code: str, title: str, *, seed: int) -> View:
    """Return a camera's view of a sticky with `title` on it: 2.5 px/mm, as a 1080p webcam sees."""
    from benchmarks.ocr_bench import HANDS, photograph_sticky, sticky_with_title
    from scanner import ViewScore

    flat, _ = sticky_with_title(title, HANDS[0], seed=seed)
    image = photograph_sticky(flat, px_per_mm=2.5, seed=seed)
    return View(
        code=code,
        image=image,
        score=ViewScore(px_per_mm=2.5, sharpness=0.6, glare=0.0, coverage=1.0),
    )


@pytest.fixture
def kiosk_server(app, tmp_path):
    """Serve a six-room wall at 10:15, its now and next columns full; yield the server.

    The server's ``codes`` maps each handwritten title to its sticky's code.
    """
    path = tmp_path / "kiosk.toml"
    path.write_text(
        event_toml(name="Kiosk Camp", slug="kiosk-camp", rooms=ROOMS, slots=SLOTS),
        encoding="utf-8",
    )
    event = load_event_file(path).event
    cells = [(room, slot) for slot in (0, 1) for room in ROOMS]
    stickies = allocate_stickies(
        event=event, count=len(cells), kind="session", template="note-76", paper="a4"
    ).stickies
    typed = iter(TYPED)
    views = []
    for seed, (sticky, cell) in enumerate(zip(stickies, cells, strict=True)):
        if cell in WRITTEN:
            views.append(_written_view(sticky.code, WRITTEN[cell], seed=seed))
        else:
            title, host = next(typed)
            fields = SessionFields(title=title, host=host)
            claim_sticky(sticky=sticky, fields=fields, key=printed_key(sticky))
    store_views(
        event=event,
        views=views,
        store=app_settings(app).scan.pictures_store,
        cap_bytes=app.config["PICTURES_MAX_BYTES"],
    )
    slot_keys = [slot.key for slot in event.slots]
    seen = [
        {"code": s.code, "room": room, "slot": slot_keys[slot], "x": 1.0, "y": 1.0, "via": "marker"}
        for s, (room, slot) in zip(stickies, cells, strict=True)
    ]
    body = {"scan_id": "kiosk-wall", "board_found": True, "stickies": seen}
    apply_scan(event=event, observations=parse_observations(body), source="test", remove_after=3)
    by_cell = dict(zip(cells, stickies, strict=True))
    by_cell[("Hall B", 1)].suggested_title = SUGGESTED
    db.session.commit()
    configure(app, CLOCK=lambda: NOW)
    live = LiveServer(app)
    live.codes = {title: by_cell[cell].code for cell, title in WRITTEN.items()}
    yield live
    live.stop()


def _open_kiosk(browser, server, width: int, height: int, *, delay_s: float = PICTURE_DELAY_S):
    """Open the kiosk with every picture held back `delay_s`; return the page and its context."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()

    def slow(route):
        time.sleep(delay_s)
        route.continue_()

    page.route("**/picture.jpg*", slow)
    page.goto(server.url + "/kiosk", wait_until="domcontentloaded")
    return page, context


def _wait_for_pictures(page, count: int) -> None:
    page.wait_for_function(
        "n => [...document.querySelectorAll('.kiosk-picture img')]"
        ".filter(img => img.complete && img.naturalWidth).length === n",
        arg=count,
        timeout=30000,
    )
    page.wait_for_timeout(200)  # the relayout waits for the next frame


def _every_page(page) -> list[list[tuple[str, float, float]]]:
    """Return the rooms each page of the kiosk shows, turning through them all."""
    pages = []
    for _ in range(page.evaluate("window.openspacesKiosk.pages()")):
        pages.append(page.evaluate(SHOWN_ROOMS))
        page.evaluate("window.openspacesKiosk.rotate()")
    return pages


def test_kiosk_six_rooms_with_pictures_fit_one_screen_at_1080p(browser, kiosk_server):
    page, context = _open_kiosk(browser, kiosk_server, 1920, 1080)
    try:
        # Before the pictures arrive their room is already kept: one page, nothing below the fold.
        assert page.evaluate("window.openspacesKiosk.pages()") == 1
        _wait_for_pictures(page, len(WRITTEN))
        assert page.evaluate("window.openspacesKiosk.pages()") == 1
        (shown,) = _every_page(page)
        assert [name for name, _, _ in shown] == ROOMS
        assert max(bottom for _, _, bottom in shown) <= 1080
        assert page.evaluate("document.documentElement.scrollHeight") == 1080
        assert page.locator("[data-page-count]").is_hidden()
    finally:
        context.close()


def test_kiosk_handwriting_is_as_tall_as_48px_type(browser, kiosk_server):
    page, context = _open_kiosk(browser, kiosk_server, 1920, 1080)
    try:
        _wait_for_pictures(page, len(WRITTEN))
        heights = dict(page.evaluate(WRITING_HEIGHTS))
        typed = {title: page.evaluate(TYPED_HEIGHT, title) for title in kiosk_server.codes}
        shortfall = {
            title: (round(heights[code]), round(typed[title]))
            for title, code in kiosk_server.codes.items()
            if heights[code] < typed[title]
        }
        assert len(heights) == len(WRITTEN) and shortfall == {}
    finally:
        context.close()


def test_kiosk_shows_the_title_suggestion_beside_the_picture(browser, kiosk_server):
    page, context = _open_kiosk(browser, kiosk_server, 1920, 1080, delay_s=0.0)
    try:
        _wait_for_pictures(page, len(WRITTEN))
        code = kiosk_server.codes[SUGGESTED]
        written = page.locator(f".kiosk-written:has([data-code='{code}'])")
        assert written.locator(".suggestion").inner_text() == f"looks like: {SUGGESTED}"
        picture = written.locator("img").bounding_box()
        suggestion = written.locator(".suggestion").bounding_box()
        assert suggestion["x"] >= picture["x"] + picture["width"]
        assert suggestion["y"] < picture["y"] + picture["height"]
        assert page.locator(".kiosk-written .suggestion").count() == 1
    finally:
        context.close()


def test_kiosk_at_720p_pages_with_slow_pictures_and_never_cuts_a_room(browser, kiosk_server):
    page, context = _open_kiosk(browser, kiosk_server, 1280, 720)
    try:
        _wait_for_pictures(page, len(WRITTEN))
        pages = _every_page(page)
        assert [[name for name, _, _ in shown] for shown in pages] == [ROOMS[:3], ROOMS[3:]]
        assert all(bottom <= 720 for shown in pages for _, _, bottom in shown)
        assert page.evaluate("document.documentElement.scrollHeight") == 720
        count = page.locator("[data-page-count]")
        assert count.inner_text() == "1/2"
        style = count.evaluate(
            "e => [parseFloat(getComputedStyle(e).fontSize), getComputedStyle(e).color,"
            " getComputedStyle(e).backgroundColor]"
        )
        assert style[0] >= 32 and style[1] == "rgb(255, 255, 255)"
    finally:
        context.close()


def test_kiosk_lays_out_again_when_a_picture_of_unknown_size_loads(browser, kiosk_server, app):
    # A picture kept before pictures had a shape: its size is known only once it has loaded.
    code = kiosk_server.codes["Kubernetes for humans"]
    with app.app_context():
        sticky = db.session.scalar(db.select(Sticky).filter_by(code=code))
        sticky.picture_score = {k: v for k, v in sticky.picture_score.items() if k != "picture"}
        db.session.commit()
    page, context = _open_kiosk(browser, kiosk_server, 1280, 720, delay_s=1.5)
    try:
        _wait_for_pictures(page, len(WRITTEN))
        pages = _every_page(page)
        assert sorted(name for shown in pages for name, _, _ in shown) == sorted(ROOMS)
        assert all(bottom <= 720 for shown in pages for _, _, bottom in shown)
        assert page.evaluate("document.documentElement.scrollHeight") == 720
    finally:
        context.close()


def test_desktop_board_with_pictures_shows_every_slot_in_even_columns(browser, kiosk_server):
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    try:
        page = context.new_page()
        page.goto(kiosk_server.url + "/board")
        _wait_for = "[...document.querySelectorAll('.grid img')].every(i => i.complete)"
        page.wait_for_function(_wait_for)
        assert page.locator(".grid .note img.sticky-picture").count() == len(WRITTEN)
        widths = page.evaluate(
            "[...document.querySelectorAll('.grid thead .room-head')]"
            ".map(th => th.getBoundingClientRect().width)"
        )
        assert len(widths) == len(ROOMS) and max(widths) - min(widths) < 1.0
        # Every slot's row lies inside the grid's scrolling box, none below it.
        box = page.locator(".grid-scroll").bounding_box()
        rows = page.evaluate(
            "[...document.querySelectorAll('.grid tbody tr')].map(r => r.getBoundingClientRect().bottom)"
        )
        assert len(rows) == len(SLOTS) and max(rows) <= box["y"] + box["height"]
    finally:
        context.close()


def test_dashboard_no_title_warnings_show_the_picture(browser, kiosk_server, app):
    from app_helpers import log_in

    from app.services.organizers import set_password

    set_password(username="admin", password="correct horse")
    db.session.commit()
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    try:
        page = context.new_page()
        log_in(page, kiosk_server.url)
        page.goto(kiosk_server.url + "/admin/")
        untitled = page.locator(".finding-untitled")
        assert untitled.count() == len(WRITTEN)
        for i in range(untitled.count()):
            picture = untitled.nth(i).locator("img.sticky-picture")
            assert picture.get_attribute("alt").endswith("written by hand")
            assert picture.evaluate("img => img.complete && img.naturalWidth") > 0
        # The transcription queue shows the same picture, cut to the writing, large.
        untitled.first.get_by_role("link", name="Type its title").click()
        shown = page.locator("article.transcribe img.sticky-picture")
        assert shown.evaluate("img => img.getBoundingClientRect().width") >= 600
    finally:
        context.close()
