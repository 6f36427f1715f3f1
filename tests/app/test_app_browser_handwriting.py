"""A wall of handwritten stickies in a real Chromium: scan it, see the pictures, transcribe them."""

from __future__ import annotations

import cv2
import pytest
from app_wall import codes, layouts, wall_for

from app.extensions import db
from app.models import Sticky
from app.services.organizers import set_password

pytestmark = pytest.mark.browser

TITLES = ["Rust for Pythonistas", "Testing without mocks", "Maps with open data"]


@pytest.mark.slow
def test_handwritten_wall_shows_pictures_and_keyboard_turns_them_into_titles(
    app, browser, server, wall_event, tmp_path
):
    s1, s2, s3, person = codes(wall_event)
    layout = layouts(wall_event)[0]
    writing = {s1: TITLES[0], s2: TITLES[1], s3: TITLES[2], person: "Mei"}
    photo = tmp_path / "wall.jpg"
    cv2.imwrite(str(photo), wall_for(wall_event).photo(layout, handwriting=writing))
    set_password(username="admin", password="correct horse")
    db.session.commit()

    page = browser.new_page(viewport={"width": 1440, "height": 900})
    try:
        page.goto(server.url + "/auth/login")
        page.fill("input[name=username]", "admin")
        page.fill("input[name=password]", "correct horse")
        page.click("button[type=submit]")
        # The phone page: take the photo, look at the preview, apply it.
        page.goto(server.url + "/scan")
        page.set_input_files("input[name=photo]", str(photo))
        page.locator("form:has(input[name=photo]) button[type=submit]").click()
        page.get_by_role("button", name="Apply to the board").click()
        page.wait_for_url("**/admin/scans")

        page.goto(server.url + "/board")
        pictures = page.locator(".grid .note img.sticky-picture, table .note img.sticky-picture")
        assert pictures.count() == 3
        for i in range(3):
            assert pictures.nth(i).evaluate("img => img.complete && img.naturalWidth") >= 152
        alts = sorted(pictures.nth(i).get_attribute("alt") for i in range(3))
        assert alts == sorted(f"Sticky {c}, written by hand" for c in (s1, s2, s3))

        # The transcription queue, with the keyboard alone: type, Enter, next.
        page.goto(server.url + "/admin/transcribe")
        for title in TITLES:
            page.wait_for_selector("article.transcribe img.sticky-picture")
            code = page.locator("article.transcribe").get_attribute("data-code")
            assert code == {TITLES[0]: s1, TITLES[1]: s2, TITLES[2]: s3}[title]
            page.keyboard.press("Control+A")
            page.keyboard.type(title)
            with page.expect_navigation():
                page.keyboard.press("Enter")
        assert page.locator("article.transcribe").get_attribute("data-code") == person

        page.goto(server.url + "/board")
        for title in TITLES:
            assert page.locator(".note-title", has_text=title).count() >= 1
    finally:
        page.close()
    db.session.remove()
    assert {s.code: s.title for s in db.session.query(Sticky).filter(Sticky.code != person)} == {
        s1: TITLES[0],
        s2: TITLES[1],
        s3: TITLES[2],
    }
