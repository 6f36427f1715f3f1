"""Organizer pages: event settings, rooms and slots, sticky moderation, hand placement, tokens."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import func, or_, select

from app.extensions import db
from app.forms import ActionForm, EventForm, RoomForm, SlotForm
from app.models import PlacementSource, Room, Slot, Sticky, StickyKind, utcnow
from app.services import ServiceError
from app.services import board as board_service
from app.services import events as event_service
from app.services import organizers as organizer_service
from app.services import stickies as sticky_service
from app.services.scans import last_camera_scan
from app.services.text import clean_line
from app.views.common import current_event_or_404, organizer_required, parse_id, sticky_or_404

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@organizer_required
def _require_login():
    return None


def _run(action, success: str, back: str):
    """Run a service call in this request's transaction; flash its outcome and redirect."""
    try:
        action()
    except ServiceError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(success, "ok")
    return redirect(back)


@bp.route("/", methods=["GET", "POST"])
def dashboard():
    event = current_event_or_404()
    form = EventForm(obj=event)
    if form.validate_on_submit():
        return _run(
            lambda: event_service.update_event_settings(
                event=event,
                name=form.name.data,
                timezone=form.timezone.data.strip(),
                base_url=form.base_url.data,
            ),
            "Event saved.",
            url_for(".dashboard"),
        )
    counts = dict(
        db.session.execute(
            select(Sticky.kind, func.count(Sticky.id))
            .where(Sticky.event_id == event.id)
            .group_by(Sticky.kind)
        ).all()
    )
    claimed = db.session.scalar(
        select(func.count(Sticky.id)).where(
            Sticky.event_id == event.id, Sticky.claimed_dt.is_not(None)
        )
    )
    return render_template(
        "admin/dashboard.html",
        event=event,
        form=form,
        room_form=RoomForm(prefix="room"),
        slot_form=SlotForm(prefix="slot"),
        action_form=ActionForm(),
        counts=counts,
        claimed=claimed,
        tokens=organizer_service.list_tokens(),
        last_scan=last_camera_scan(event),
        now=utcnow(),
    ), (400 if form.errors else 200)


@bp.post("/rooms")
def add_room():
    event = current_event_or_404()
    form = RoomForm(prefix="room")
    if not form.validate_on_submit():
        flash(_form_errors(form), "error")
        return redirect(url_for(".dashboard"))
    return _run(
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
        return _run(
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
    return _run(
        lambda: event_service.delete_room(room=room), "Room removed.", url_for(".dashboard")
    )


@bp.post("/slots")
def add_slot():
    event = current_event_or_404()
    form = SlotForm(prefix="slot")
    if not form.validate_on_submit():
        flash(_form_errors(form), "error")
        return redirect(url_for(".dashboard"))
    return _run(
        lambda: event_service.add_slot(event=event, start=form.start.data, end=form.end.data),
        "Slot added.",
        url_for(".dashboard"),
    )


@bp.post("/slots/<int:slot_id>/delete")
def delete_slot(slot_id: int):
    slot = db.get_or_404(Slot, slot_id)
    if not ActionForm().validate_on_submit():
        abort(400, description="The form expired. Reload the page and try again.")
    return _run(
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
    query = select(Sticky).filter_by(event_id=event.id)
    kind = request.args.get("kind")
    if kind in (StickyKind.SESSION, StickyKind.PERSON):
        query = query.filter_by(kind=kind)
    search = clean_line(request.args.get("q", ""))[:100]
    if search:
        like = f"%{search.lower()}%"
        query = query.where(
            or_(
                func.lower(Sticky.code).like(like),
                func.lower(Sticky.title).like(like),
                func.lower(Sticky.host).like(like),
                func.lower(Sticky.tags).like(like),
            )
        )
    status = request.args.get("status")
    if status == "claimed":
        query = query.where(Sticky.claimed_dt.is_not(None))
    elif status == "blank":
        query = query.where(Sticky.claimed_dt.is_(None))
    elif status == "hidden":
        query = query.filter_by(hidden=True)
    rows = list(db.session.scalars(query.order_by(Sticky.id.desc()).limit(500)))
    return render_template(
        "admin/stickies.html",
        event=event,
        stickies=rows,
        action_form=ActionForm(),
        kind=kind,
        search=search,
        status=status,
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
    return _run(lambda: action(sticky), message, url_for(".sticky", code=sticky.code))


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
        room, slot = db.session.get(Room, room_id), db.session.get(Slot, slot_id)
        if room is None or slot is None:
            raise ServiceError("that cell does not exist")
        board_service.place_sticky(
            sticky=sticky, room=room, slot=slot, source=PlacementSource.ORGANIZER
        )

    return _run(action, "Board updated.", url_for(".sticky", code=sticky.code))
