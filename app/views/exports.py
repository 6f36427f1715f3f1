"""Schedule downloads (iCalendar, frab JSON and XML, the project's JSON, door PDF, CSV) and capacity."""

from __future__ import annotations

import json

from flask import Blueprint, Response, abort

from app.models import Sticky, utcnow
from app.services import capacity, following
from app.services import exports as export_service
from app.views.common import current_event_or_404, organizer_required, room_or_404

bp = Blueprint("exports", __name__)


def _download(data: bytes | str, *, mimetype: str, filename: str, inline: bool = False) -> Response:
    disposition = "inline" if inline else "attachment"
    return Response(
        data,
        mimetype=mimetype,
        headers={
            "Content-Disposition": f'{disposition}; filename="{filename}"',
            # Schedules change while the event runs; calendar apps and phones must ask again.
            "Cache-Control": "no-cache",
        },
    )


@bp.get("/schedule.ics")
def event_ics():
    event = current_event_or_404()
    return _download(
        export_service.event_calendar(event=event),
        mimetype="text/calendar",
        filename=f"{event.slug}.ics",
    )


@bp.get("/rooms/<int:number>/schedule.ics")
def room_ics(number: int):
    event = current_event_or_404()
    room = room_or_404(event, number)
    return _download(
        export_service.room_calendar(event=event, room=room),
        mimetype="text/calendar",
        filename=f"{event.slug}-room-{number}.ics",
    )


@bp.get("/my/<feed_key>/calendar.ics")
def followed_ics(feed_key: str):
    """The private calendar feed of the sessions one browser follows (app.services.following)."""
    event = current_event_or_404()
    follower = following.follower_by_key(feed_key)
    if follower is None:
        abort(
            404,
            description="There is no such calendar. Mark a session “I'm interested” to get one.",
        )
    response = _download(
        export_service.followed_calendar(event=event, follower=follower),
        mimetype="text/calendar",
        filename=f"{event.slug}-my-sessions.ics",
        inline=True,
    )
    # Private: no shared cache keeps it, and no search engine lists it.
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def _feed(body: bytes | str, mimetype: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Cache-Control"] = "no-cache"
    # Schedule apps and other sites read these from their own origin.
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/schedule.json")
def schedule_json():
    event = current_event_or_404()
    data = export_service.frab_json(event=event)
    return _feed(json.dumps(data, ensure_ascii=False, indent=1), "application/json")


@bp.get("/api/schedule")
def api_schedule():
    event = current_event_or_404()
    data = export_service.schedule_json(event=event)
    return _feed(json.dumps(data, ensure_ascii=False, indent=1), "application/json")


@bp.get("/schedule.xml")
def schedule_xml():
    event = current_event_or_404()
    return _feed(export_service.schedule_xml(event=event), "application/xml")


@bp.get("/rooms/<int:number>/schedule.pdf")
def room_pdf(number: int):
    event = current_event_or_404()
    room = room_or_404(event, number)
    return _download(
        export_service.room_schedule_pdf(event=event, room=room, now=utcnow()),
        mimetype="application/pdf",
        filename=f"{event.slug}-room-{number}.pdf",
        inline=True,
    )


@bp.get("/admin/export.csv")
@organizer_required
def stickies_csv():
    event = current_event_or_404()
    # A byte order mark, so that spreadsheet programs read the names as UTF-8.
    return _download(
        "\ufeff" + export_service.stickies_csv(event=event),
        mimetype="text/csv",
        filename=f"{event.slug}-stickies.csv",
    )


@bp.app_template_global()
def capacity_marks(grid) -> dict[str, capacity.CapacityMark]:
    """Return the board's capacity marks by sticky code, for the grid template."""
    return capacity.board_marks(grid=grid)


@bp.app_template_global()
def capacity_mark(sticky: Sticky) -> capacity.CapacityMark | None:
    """Return one session's capacity mark, for its page."""
    return capacity.capacity_mark(sticky=sticky)
