"""Public pages: the board, sticky pages, people and rooms."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import generate_csrf

from app.extensions import db, limiter
from app.forms import InterestForm, PersonForm, SessionForm
from app.live import cache, stamp, stream
from app.models import BoardStatus, StickyKind
from app.services import ServiceError, claim_keys, following, plain_notes, webhooks
from app.services import board as board_service
from app.services import stickies as sticky_service
from app.services.events import current_and_next_slot
from app.settings import app_settings
from app.views.common import (
    EDIT_COOKIE_PREFIX,
    ONE_YEAR,
    browser_id,
    cookie_options,
    current_event_or_404,
    current_version_or_404,
    is_organizer,
    now,
    room_or_404,
    set_cookies,
    shared_view,
    sticky_or_404,
)

bp = Blueprint("public", __name__)
bp.after_app_request(set_cookies)


def _board_context():
    event = current_event_or_404()
    moment = now()
    grid = board_service.build_grid(event)
    current, upcoming = current_and_next_slot(event, now=moment)
    off_grid = [s for s in board_service.board_stickies(event) if not s.on_grid]
    # The phone list: what runs now and next first, then what comes later; finished slots last.
    coming = [s for s in event.slots if s.end_dt > moment]
    return {
        "event": event,
        "grid": grid,
        "now": moment,
        "coming_slots": coming,
        "past_slots": [s for s in event.slots if s.end_dt <= moment],
        "current_slot": current,
        "next_slot": upcoming,
        "off_grid": off_grid,
        "next_change": stamp.next_change(event, now=moment),
    }


def _kiosk_context():
    """Return what the wall screen shows: the slot running now and the next, room by room."""
    context = _board_context()
    event, current, upcoming = context["event"], context["current_slot"], context["next_slot"]
    columns = []
    if current:
        columns.append(("Now", current))
    if upcoming:
        columns.append(("Next", upcoming))
        if not current:
            later = [s for s in event.slots if s.start_dt > upcoming.start_dt]
            if later:
                columns.append(("Later", later[0]))
    context["columns"] = columns
    context["board_url"] = event.base_url + url_for(".board")
    context["news"] = webhooks.wall_lines(event=event, now=context["now"])
    # New plain notes' one-time claim codes: only a wall screen an organizer logged in shows them,
    # and it looks again when the first of them runs out.
    codes = plain_notes.wall_claim_codes(event=event, now=context["now"]) if is_organizer() else []
    context["claim_codes"] = codes
    context["next_change"] = min(
        filter(None, [context["next_change"], *(c.expires_dt for c in codes)]), default=None
    )
    return context


def _shared_page(name: str, template: str, make_context, *, key=()):
    """Render ``template`` once per live stamp for everyone (app.live.cache); organizers get their
    own copy."""
    event_id, version = current_version_or_404()
    return cache.shared_page(
        (name, event_id, *key),
        version,
        lambda: render_template(template, version=version, **make_context()),
        shared=shared_view(),
    )


def _render_grid(kiosk: bool) -> str:
    if kiosk:
        return render_template("_kiosk.html", **_kiosk_context())
    return render_template("_grid.html", **_board_context())


@bp.get("/healthz")
def healthz():
    """Answer ``ok`` without touching the database: for load balancers and uptime checks."""
    return Response("ok\n", mimetype="text/plain")


@bp.get("/")
@bp.get("/board")
def board():
    if request.args.get("kiosk") == "1":
        return kiosk()
    return _shared_page("board", "board.html", _board_context)


@bp.get("/kiosk")
def kiosk():
    """The wall screen: Now and Next in type that reads from across the hall."""
    return _shared_page("kiosk", "kiosk.html", _kiosk_context)


@bp.get("/board/grid")
def board_grid():
    """Return just the board (or the kiosk's content), for the page to refresh itself in place."""
    event_id, version = current_version_or_404()
    kiosk = request.args.get("kiosk") == "1"
    etag = f"{version}-k" if kiosk else version
    if kiosk and is_organizer():
        # Claim codes come and go on the organizers' wall screen with no change of the board.
        etag += "-" + plain_notes.wall_stamp(event=current_event_or_404(), now=now())
    return cache.revalidated(
        etag,
        lambda: cache.kept(
            ("grid", event_id, kiosk), version, lambda: _render_grid(kiosk), shared=shared_view()
        ),
    )


@bp.get("/board/events")
def board_events():
    """Stream a ``board`` event whenever the board changes (server-sent events, app.live.stream).

    With ``parts=grid`` (the board page) a change that only touched some of the grid's parts
    comes as a ``parts`` event instead, holding those parts (app.live.parts), so that the page
    need not fetch the grid: ``{"from": version shown, "to": new version, "etag": the grid's,
    "parts": {key: html}}``.

    Each stream ends after a while and the browser reconnects, so that no worker thread is held for
    ever. When every stream slot is taken, or the client's address holds
    ``LIVE_STREAMS_PER_ADDRESS`` streams already, the answer is 503 and the page falls back to
    polling.
    """
    event_id, current = current_version_or_404()
    last = request.args.get("v", "")
    grid = None
    if request.args.get("parts") == "grid" and shared_view():
        grid = stream.GridParts(("grid", event_id, False), lambda: _render_grid(False))
        if last == current:
            grid.keep(current)
    return stream.board_stream(
        current_app._get_current_object(),
        event_id,
        last=last,
        # Behind a trusted proxy (--behind-proxy) this is the phone's address, not the proxy's.
        address=request.remote_addr or "",
        grid=grid,
        # waitress tells a running response that its client went away (see serve's lookahead).
        client_gone=request.environ.get("waitress.client_disconnected"),
    )


def _fields_from(form, kind):
    if kind == StickyKind.SESSION:
        return sticky_service.SessionFields(
            title=form.title.data,
            host=form.host.data,
            description=form.description.data or "",
            tags=form.tags.data or "",
            contact=form.contact.data or "",
            links=form.links.data or "",
        )
    return sticky_service.PersonFields(
        name=form.name.data,
        interests=form.interests.data or "",
        contact=form.contact.data or "",
        contact_public=bool(form.contact_public.data),
    )


def _form_for(sticky, *, obj=None):
    if sticky.kind == StickyKind.SESSION:
        return SessionForm(obj=obj)
    form = PersonForm()
    if obj is not None and request.method == "GET":
        form.name.data = obj.title
        form.interests.data = obj.tags
        form.contact.data = obj.contact
        form.contact_public.data = obj.contact_public
    return form


def _edit_secret(sticky) -> str | None:
    return request.args.get("key") or request.cookies.get(EDIT_COOKIE_PREFIX + sticky.code)


# A browser keeps the edit secrets of its newest 40 stickies, one cookie of 48 bytes each: 1,998
# bytes of the Cookie header it sends with every request. Without a limit a phone that claimed
# 160 stickies sent 8,238 bytes, which gunicorn refuses (431: one header may hold 8,190 bytes).
# An older sticky stays editable through its private edit link (/s/CODE/edit?key=SECRET), which
# its page shows once after the claim; saving an edit from that link keeps the secret again.
MAX_KEPT_EDIT_SECRETS = 40


def _remember_secret(response, sticky, secret: str):
    """Let this browser edit the sticky from now on: the secret goes into an HTTP-only cookie.

    Beyond the newest ``MAX_KEPT_EDIT_SECRETS`` the oldest secrets are deleted: browsers list a
    request's cookies oldest first (RFC 6265, section 5.4).
    """
    name = EDIT_COOKIE_PREFIX + sticky.code
    response.set_cookie(name, secret, max_age=ONE_YEAR, **cookie_options())
    others = [key for key in request.cookies if key.startswith(EDIT_COOKIE_PREFIX) and key != name]
    for oldest in others[: max(0, len(others) - (MAX_KEPT_EDIT_SECRETS - 1))]:
        response.delete_cookie(oldest, **cookie_options())
    return response


def _can_edit(sticky) -> bool:
    return sticky_service.can_edit(
        sticky=sticky, secret=_edit_secret(sticky), is_organizer=is_organizer()
    )


def _claim_key() -> str | None:
    """Return the claim key this request came with: from the sticky's QR, or typed."""
    return request.args.get(claim_keys.KEY_PARAM) or None


@bp.route("/s/<code>", methods=["GET", "POST"])
def sticky(code: str):
    sticky = sticky_or_404(code)
    if sticky.code != code:
        key = {claim_keys.KEY_PARAM: _claim_key()} if _claim_key() else {}
        return redirect(url_for(".sticky", code=sticky.code, **key), 301)
    if sticky.hidden and not is_organizer():
        abort(404, description="This sticky has been hidden by the organizers.")
    if request.method == "POST":
        return _claim(sticky)
    if not sticky.is_claimed:
        return _key_refusal(sticky) or _claim_page(sticky)
    edit_link = session.pop("new_edit_link", None)
    can_edit = _can_edit(sticky)
    interested = sticky.kind == StickyKind.SESSION and sticky_service.is_interested(
        sticky, browser_id()
    )

    def render() -> str:
        return _sticky_page(sticky, can_edit=can_edit, interested=interested, edit_link=edit_link)

    if edit_link:
        # The private edit link is shown once: no copy is kept, by the phone's offline pages either.
        return _private(render())
    if not shared_view():
        return render()
    # Everyone who may not edit sees the same page, but for the form's token and their own mark.
    # The current event's stamp, kept in memory: a sticky of an older event is renewed by age.
    _, version = current_version_or_404()
    key = ("sticky", sticky.code, cache.fingerprint(sticky), can_edit, interested)
    token = generate_csrf() if current_app.config.get("WTF_CSRF_ENABLED", True) else None
    return cache.with_token(key, version, render, token=token)


def _sticky_page(sticky, *, can_edit: bool, interested: bool, edit_link: str | None) -> str:
    moment = now()
    context = {
        "sticky": sticky,
        "event": sticky.event,
        "now": moment,
        "can_edit": can_edit,
        "edit_link": edit_link,
        "interest_form": InterestForm(),
        "free_cells": [],
    }
    if sticky.kind == StickyKind.SESSION and can_edit and not sticky.on_grid:
        context["free_cells"] = _free_cells(sticky.event, moment)
    if sticky.kind == StickyKind.SESSION:
        context.update(
            interested=interested,
            interest_count=sticky_service.interest_count(sticky),
            people=sticky_service.people_matching(sticky),
            history=board_service.placement_history(sticky)[:5],
        )
        return render_template("session.html", **context)
    context["hosted"] = sticky_service.sessions_hosted_by(sticky)
    return render_template("person.html", **context)


def _claim_page(sticky):
    """The claim form of a blank sticky; what the wall shows, read by a person or by text
    recognition, starts the title."""
    form = _form_for(sticky)
    start = sticky.title or sticky.suggested_title or ""
    if sticky.kind == StickyKind.SESSION:
        form.title.data = start
    else:
        form.name.data = start
    return _private(render_template("claim.html", sticky=sticky, form=form))


def _key_refusal(sticky):
    """Return the page for a visitor who may not claim this blank sticky, or None if they may.

    Organizers need no key. Without one, the page says where to find it (a refused claim is 403);
    a wrong key counts against the address (app.services.claim_keys) and changes nothing.
    """
    if is_organizer():
        return None
    key = _claim_key()
    if key is None:
        status = 403 if request.method == "POST" else 200
        return render_template("claim_key.html", sticky=sticky), status
    address, limit = (
        get_remote_address(),
        app_settings(current_app).login.claim_key_limit_per_address,
    )
    if claim_keys.keys_refused(address=address, limit=limit):
        return render_template("claim_key.html", sticky=sticky, refused=True), 429
    if claim_keys.key_matches(sticky=sticky, key=key):
        return None
    claim_keys.note_wrong_key(address=address, limit=limit)
    return render_template("claim_key.html", sticky=sticky, wrong=True), 403


def _private(body, status: int = 200) -> Response:
    """Answer a page whose address holds a claim key: kept by no cache on the way."""
    response = current_app.make_response((body, status))
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _claim(sticky):
    """Claim a blank sticky from its form; someone who lost a race keeps the text they typed."""
    form = _form_for(sticky)
    if sticky.is_claimed:
        return _claimed_first(sticky, form)
    refusal = _key_refusal(sticky)
    if refusal is not None:
        return refusal
    if not form.validate_on_submit():
        return _private(render_template("claim.html", sticky=sticky, form=form), 400)
    try:
        secret = sticky_service.claim_sticky(
            sticky=sticky,
            fields=_fields_from(form, sticky.kind),
            key=_claim_key(),
            by_organizer=is_organizer(),
        )
    except sticky_service.AlreadyClaimed:
        db.session.rollback()
        return _claimed_first(sticky, form)
    db.session.commit()
    session["new_edit_link"] = url_for(".edit", code=sticky.code, key=secret, _external=True)
    return _remember_secret(redirect(url_for(".sticky", code=sticky.code)), sticky, secret)


def _claimed_first(sticky, form):
    # The page says that someone else was first, and shows the form with this person's text.
    return render_template("claim.html", sticky=sticky, form=form, taken=True), 409


def _free_cells(event, moment):
    """Return (name, slot, free rooms) for the slot running now and the next, for a new session."""
    grid = board_service.build_grid(event)
    current, upcoming = current_and_next_slot(event, now=moment)
    return [
        (name, slot, grid.free_rooms(slot))
        for name, slot in (("Now", current), ("Next", upcoming))
        if slot is not None
    ]


@bp.get("/s/<code>/where")
def sticky_where(code: str):
    """Return where and when a session runs, for its page to refresh itself."""
    sticky = sticky_or_404(code)
    if sticky.hidden and not is_organizer():
        abort(404)
    return render_template(
        "_where.html",
        sticky=sticky,
        now=now(),
        interest_count=sticky_service.interest_count(sticky),
    )


@bp.route("/s/<code>/edit", methods=["GET", "POST"])
def edit(code: str):
    sticky = sticky_or_404(code)
    if sticky.hidden and not is_organizer():
        abort(404, description="This sticky has been hidden by the organizers.")
    if not sticky.is_claimed:
        return redirect(url_for(".sticky", code=sticky.code))
    if not _can_edit(sticky):
        abort(
            403,
            description="Only the person who claimed this sticky, or an organizer, can edit "
            "it. Open the private edit link you were given when you claimed it.",
        )
    form = _form_for(sticky, obj=sticky)
    if form.validate_on_submit():
        sticky_service.edit_sticky(
            sticky=sticky, fields=_fields_from(form, sticky.kind), by_organizer=is_organizer()
        )
        db.session.commit()
        flash("Saved.", "ok")
        response = redirect(url_for(".sticky", code=sticky.code))
        key = request.args.get("key")
        return _remember_secret(response, sticky, key) if key else response
    status = 400 if request.method == "POST" else 200
    return render_template("claim.html", sticky=sticky, form=form, editing=True), status


@bp.post("/s/<code>/interest")
@limiter.limit(
    lambda: app_settings(current_app).login.interest_limit_per_address,
    error_message="Too many interest marks from your network just now. Wait a minute and try again.",
)
def interest(code: str):
    sticky = sticky_or_404(code)
    if sticky.hidden:
        abort(404, description="This sticky has been hidden by the organizers.")
    form = InterestForm()
    if not form.validate_on_submit():
        abort(400, description="The form expired. Reload the page and try again.")
    # The mark the tap asks for: a tap a phone kept while offline may arrive twice, and must not
    # undo itself then. Without it (an older page), the tap toggles.
    wanted = request.form.get("state")
    if wanted not in (None, "on", "off"):
        abort(400, description="The interest mark must be on or off.")
    try:
        sticky_service.set_interest(
            sticky=sticky,
            browser_id=browser_id(),
            interested=None if wanted is None else wanted == "on",
        )
    except ServiceError as exc:
        abort(409, description=str(exc))
    db.session.commit()
    response = redirect(url_for(".sticky", code=sticky.code))
    _remember_feed(response)
    return response


FEED_COOKIE = "openspaces_feed"


def _remember_feed(response) -> None:
    """Tell the browser its followed-sessions feed, for the link every page shows (follow.js).

    A cookie that scripts read, not part of the page: pages stay the same for everyone and cached.
    """
    key = following.feed_key_of(browser_id())
    if key:
        response.set_cookie(
            FEED_COOKIE,
            key,
            max_age=60 * 60 * 24 * 365,
            samesite="Lax",
            secure=request.is_secure,
        )


@bp.get("/s/<code>/calendar.ics")
def sticky_ics(code: str):
    sticky = sticky_or_404(code)
    if sticky.kind != StickyKind.SESSION or not sticky.is_claimed or sticky.hidden:
        abort(404, description="Only a claimed session has a calendar entry.")
    if sticky.board_status != BoardStatus.PLACED:
        abort(
            404,
            description="This session does not hold a cell on the board yet, so it has no time.",
        )
    from app.services.exports import session_calendar

    return Response(
        session_calendar(sticky),
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="{sticky.code}.ics"'},
    )


@bp.get("/people")
def people():
    event = current_event_or_404()
    query = request.args.get("q", "")[:100]
    found = sticky_service.search_people(event, query)
    from app.services.pictures import handwritten_people

    # Person stickies nobody claimed show what the camera saw of them, unless someone searches.
    handwritten = [] if query.strip() else handwritten_people(event)
    return render_template(
        "people.html", event=event, people=found, query=query, handwritten=handwritten
    )


@bp.get("/rooms/<int:number>")
def room(number: int):
    def make_context():
        event = current_event_or_404()
        room = room_or_404(event, number)
        grid = board_service.build_grid(event)
        rows = [(slot, grid.cell(room, slot)) for slot in event.slots]
        current, upcoming = current_and_next_slot(event, now=now())
        return {
            "event": event,
            "room": room,
            "rows": rows,
            "current_slot": current,
            "next_slot": upcoming,
        }

    return _shared_page("room", "room.html", make_context, key=(number,))
