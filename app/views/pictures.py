"""Sticky pictures: serve a sticky's best picture, the transcription queue, and dropping a picture."""

from __future__ import annotations

from functools import partial

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from markupsafe import Markup

from app.extensions import db
from app.forms import ActionForm, TranscribeForm
from app.services import ServiceError, published, recognition
from app.services import pictures as picture_service
from app.settings import app_settings
from app.views.common import current_event_or_404, is_organizer, organizer_required, sticky_or_404
from app.views.files import send_stored

bp = Blueprint("pictures", __name__)


def init_app(app) -> None:
    """Offer the templates `sticky_picture(sticky, size)`: the picture, or nothing without one.

    Also tell title recognition when requests come in, so that it reads while the server is quiet.
    """
    app.before_request(partial(recognition.note_request, app))

    def sticky_picture(sticky, size: str = "small") -> Markup:
        if not sticky.picture_file:
            return Markup("")
        macro = app.jinja_env.get_template("_picture.html").module.picture
        return Markup(macro(sticky, size))

    def picture_suggestion(sticky) -> Markup:
        read = recognition.wall_title(sticky)
        if read:  # confident enough to stand as the title until someone confirms or corrects it
            return Markup(
                '<span class="note-title read-from-wall">{}</span>'
                '<span class="suggestion">read from the wall</span>'
            ).format(read)
        macro = app.jinja_env.get_template("_picture.html").module.suggestion
        return Markup(macro(sticky))

    app.jinja_env.globals.update(
        sticky_picture=sticky_picture,
        picture_suggestion=picture_suggestion,
        picture_version=published.picture_version,
    )


@bp.get("/s/<code>/picture.jpg")
def sticky_picture(code: str):
    """Serve the sticky's best picture (404 without one); a versioned URL is cached for good."""
    sticky = sticky_or_404(code)
    if sticky.hidden and not is_organizer():
        abort(404)
    key = picture_service.picture_key(sticky)
    current = request.args.get("v") == published.picture_version(sticky)
    store = app_settings(current_app).scan.pictures_store
    response = None if key is None else send_stored(store, key, max_age=31536000 if current else 0)
    if response is None:
        abort(404, description=f"There is no picture of sticky {sticky.code} yet.")
    if current:
        response.cache_control.immutable = True
    return response


@bp.route("/admin/transcribe", methods=["GET"])
@organizer_required
def transcribe():
    """Show the next untitled sticky's picture with a title field; Enter saves and moves on."""
    event = current_event_or_404()
    queue = picture_service.transcription_queue(event)
    after = request.args.get("after", type=int)
    if after is not None:
        # Skipped ones go to the back of the queue.
        queue = [s for s in queue if s.id > after] + [s for s in queue if s.id <= after]
    first = request.args.get("code")
    if first:
        # Asked for by name (the dashboard's "Give it a title"): that one first.
        queue = [s for s in queue if s.code == first] + [s for s in queue if s.code != first]
    sticky = queue[0] if queue else None
    form = TranscribeForm()
    if sticky is not None:
        form.title.data = sticky.suggested_title or ""
    return render_template(
        "admin/transcribe.html",
        event=event,
        sticky=sticky,
        remaining=len(queue),
        form=form,
        action_form=ActionForm(),
    )


@bp.post("/admin/transcribe/<code>")
@organizer_required
def confirm(code: str):
    sticky = sticky_or_404(code)
    event = current_event_or_404()
    form = TranscribeForm()
    error = None
    if form.validate_on_submit():
        try:
            picture_service.confirm_title(sticky=sticky, title=form.title.data)
        except ServiceError as exc:
            db.session.rollback()
            error = str(exc)
    else:
        error = "Type the title written on the sticky, at most 120 characters."
    if error is not None:
        # Show the same sticky again with what was typed, and say what was wrong.
        flash(error, "error")
        queue = picture_service.transcription_queue(event)
        return render_template(
            "admin/transcribe.html",
            event=event,
            sticky=sticky if not sticky.title else (queue[0] if queue else None),
            remaining=len(queue),
            form=form,
            action_form=ActionForm(),
        ), 400
    db.session.commit()
    flash(f"{sticky.code}: “{sticky.title}”", "ok")
    return redirect(url_for(".transcribe", after=sticky.id))


@bp.post("/admin/stickies/<code>/picture/drop")
@organizer_required
def drop(code: str):
    sticky = sticky_or_404(code)
    if not ActionForm().validate_on_submit():
        abort(400, description="The form expired. Reload the page and try again.")
    picture_service.drop_picture(sticky=sticky, store=app_settings(current_app).scan.pictures_store)
    db.session.commit()
    flash(f"Picture of {sticky.code} dropped; the next scan that reads it takes a new one.", "ok")
    return redirect(url_for("admin.sticky", code=sticky.code))
