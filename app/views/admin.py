"""Organizer pages: event settings, rooms and slots, sticky moderation, hand placement, tokens."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from app.extensions import db
from app.forms import ActionForm, EventForm, RoomForm, SlotForm
from app.models import PlacementSource, Room, Slot
from app.services import ServiceError, attention
from app.services import board as board_service
from app.services import events as event_service
from app.services import organizers as organizer_service
from app.services import stickies as sticky_service
from app.services.text import clean_line
from app.views.common import (
    current_event_or_404,
    now,
    organizer_required,
    parse_id,
    run_action,
    sticky_or_404,
)

bp = Blueprint("admin", __name__, url_prefix="/admin")

STICKIES_PER_PAGE = 50


@bp.before_request
@organizer_required
def _require_login():
    return None


@bp.route("/", methods=["GET", "POST"])
def dashboard():
    event = current_event_or_404()
    form = EventForm(obj=event)
    if form.validate_on_submit():
        return run_action(
            lambda: event_service.update_event_settings(
                event=event,
                name=form.name.data,
                timezone=form.timezone.data.strip(),
                base_url=form.base_url.data,
                plain_notes=form.PLAIN_NOTES[form.notes_search.data],
            ),
            "Event saved.",
            url_for(".dashboard"),
        )
    counts = sticky_service.sticky_counts(event)
    moment = now()
    slot_form = SlotForm(prefix="slot")
    if event.slots and not slot_form.start.data:
        # Offer the slot after the last one: same length, same gap as the last two.
        last = event.slots[-1]
        gap = last.start_dt - event.slots[-2].end_dt if len(event.slots) > 1 else dt.timedelta()
        start = last.end_dt + max(gap, dt.timedelta())
        # Typed in 24-hour time, with a space as people write it (app.forms.SlotForm).
        slot_form.start.data = f"{event.local(start):%Y-%m-%d %H:%M}"
        slot_form.end.data = f"{event.local(start + (last.end_dt - last.start_dt)):%Y-%m-%d %H:%M}"
    return render_template(
        "admin/dashboard.html",
        event=event,
        form=form,
        room_form=RoomForm(prefix="room"),
        slot_form=slot_form,
        action_form=ActionForm(),
        counts=counts.by_kind,
        claimed=counts.claimed,
        findings=attention.needs_attention(
            event=event, grid=board_service.build_grid(event), now=moment
        ),
        tokens=organizer_service.list_tokens(),
        last_scan=attention.last_scan(event),
        now=moment,
    ), (400 if form.errors else 200)


@bp.post("/rooms")
def add_room():
    event = current_event_or_404()
    form = RoomForm(prefix="room")
    if not form.validate_on_submit():
        flash(_form_errors(form), "error")
        return redirect(url_for(".dashboard"))
    return run_action(
        lambda: event_service.add_room(
            event=event, name=form.name.data, capacity=form.capacity.data
        ),
        f"Room {form.name.data!r} added.",
        url_for(".dashboard"),
    )


@bp.route("/rooms/<int:room_id>", methods=["GET", "POST"])
def edit_room(room_id: int):
    room = db.get_or_404(Room, room_id)
    form = RoomForm(obj=room)
    if form.validate_on_submit():
        return run_action(
            lambda: event_service.update_room(
                room=room, name=form.name.data, capacity=form.capacity.data
            ),
            "Room saved.",
            url_for(".dashboard"),
        )
    return render_template("admin/room.html", room=room, form=form), (400 if form.errors else 200)


@bp.post("/rooms/<int:room_id>/delete")
def delete_room(room_id: int):
    room = db.get_or_404(Room, room_id)
    if not ActionForm().validate_on_submit():
        abort(400, description="The form expired. Reload the page and try again.")
    return run_action(
        lambda: event_service.delete_room(room=room), "Room removed.", url_for(".dashboard")
    )


@bp.post("/slots")
def add_slot():
    event = current_event_or_404()
    form = SlotForm(prefix="slot")
    if not form.validate_on_submit():
        flash(_form_errors(form), "error")
        return redirect(url_for(".dashboard"))
    return run_action(
        lambda: event_service.add_slot(event=event, start=form.start.data, end=form.end.data),
        "Slot added.",
        url_for(".dashboard"),
    )


@bp.post("/slots/<int:slot_id>/delete")
def delete_slot(slot_id: int):
    slot = db.get_or_404(Slot, slot_id)
    if not ActionForm().validate_on_submit():
        abort(400, description="The form expired. Reload the page and try again.")
    return run_action(
        lambda: event_service.delete_slot(slot=slot), "Slot removed.", url_for(".dashboard")
    )


def _form_errors(form) -> str:
    return "; ".join(
        f"{getattr(form, name).label.text}: {', '.join(errors)}"
        for name, errors in form.errors.items()
    )


@bp.get("/stickies")
def stickies():
    event = current_event_or_404()
    kind = request.args.get("kind")
    search = clean_line(request.args.get("q", ""))[:100]
    status = request.args.get("status")
    found = sticky_service.search_stickies(
        event=event,
        text=search,
        kind=kind,
        status=status,
        page=request.args.get("page", 1, type=int),
        per_page=STICKIES_PER_PAGE,
    )
    return render_template(
        "admin/stickies.html",
        event=event,
        stickies=found.rows,
        action_form=ActionForm(),
        kind=kind,
        search=search,
        status=status,
        total=found.total,
        page=found.page,
        pages=found.pages,
        first=found.first,
    )


@bp.route("/stickies/<code>", methods=["GET", "POST"])
def sticky(code: str):
    sticky = sticky_or_404(code)
    return render_template(
        "admin/sticky.html",
        sticky=sticky,
        event=sticky.event,
        action_form=ActionForm(),
        history=board_service.placement_history(sticky),
    )


def _sticky_action(code: str, action, message: str):
    sticky = sticky_or_404(code)
    if not ActionForm().validate_on_submit():
        abort(400, description="The form expired. Reload the page and try again.")
    return run_action(lambda: action(sticky), message, url_for(".sticky", code=sticky.code))


@bp.post("/stickies/<code>/hide")
def hide(code: str):
    return _sticky_action(
        code, lambda s: sticky_service.set_hidden(sticky=s, hidden=True), "Sticky hidden."
    )


@bp.post("/stickies/<code>/unhide")
def unhide(code: str):
    return _sticky_action(
        code, lambda s: sticky_service.set_hidden(sticky=s, hidden=False), "Sticky shown again."
    )


@bp.post("/stickies/<code>/release")
def release(code: str):
    return _sticky_action(
        code,
        lambda s: sticky_service.release_sticky(sticky=s),
        "Sticky released: it is blank again.",
    )


@bp.post("/stickies/<code>/place")
def place(code: str):
    """Move a sticky by hand, for stickies the camera cannot see."""
    sticky = sticky_or_404(code)
    if not ActionForm().validate_on_submit():
        abort(400, description="The form expired. Reload the page and try again.")
    target = request.form.get("cell", "")

    def action():
        if target == "off":
            board_service.remove_sticky(sticky=sticky, source=PlacementSource.ORGANIZER)
            return
        if target == "offgrid":
            board_service.put_off_grid(sticky=sticky, source=PlacementSource.ORGANIZER)
            return
        room_part, _, slot_part = target.partition(":")
        room_id, slot_id = parse_id(room_part), parse_id(slot_part)
        if room_id is None or slot_id is None:
            raise ServiceError("choose a cell")
        board_service.set_place(
            sticky=sticky,
            place=board_service.Place.cell(room_id, slot_id),
            source=PlacementSource.ORGANIZER,
        )

    return run_action(action, "Board updated.", url_for(".sticky", code=sticky.code))
