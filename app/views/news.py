"""The organizers' news page: announcements, and the hooks that carry board news to chats and apps."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, abort, flash, redirect, render_template, url_for

from app.extensions import db
from app.forms import ActionForm, AnnouncementForm, HookForm
from app.models import HookFormat
from app.services import ServiceError, outbox, webhooks
from app.services.text import plural
from app.views.common import current_event_or_404, organizer_required, run_action

bp = Blueprint("news", __name__, url_prefix="/admin/news")


@bp.before_request
@organizer_required
def _require_login():
    return None


@bp.get("/")
def index():
    return _page()


def _page(*, hook_form: HookForm | None = None, new_hook=None, status: int = 200):
    event = current_event_or_404()
    states = webhooks.hook_states()
    return render_template(
        "admin/news.html",
        event=event,
        hooks=states,
        dead={state.hook_id: webhooks.dead_letters(hook_id=state.hook_id) for state in states},
        # A fresh form unless one comes back with its errors: not the one just sent.
        hook_form=hook_form or HookForm(prefix="hook", formdata=None),
        announcement_form=AnnouncementForm(prefix="news"),
        action_form=ActionForm(),
        new_hook=new_hook,
    ), status


@bp.post("/announce")
def announce():
    event = current_event_or_404()
    form = AnnouncementForm(prefix="news")
    if not form.validate_on_submit():
        flash("Write the announcement (at most 500 characters) and send it again.", "error")
        return redirect(url_for(".index"))
    return run_action(
        lambda: outbox.note_announcement(event=event, text=form.text.data),
        "Announced: on the wall screen for a minute, and sent to every hook.",
        url_for(".index"),
    )


@bp.post("/hooks")
def add_hook():
    """Add a hook; a standard hook's signing secret is shown on this answer only, never again."""
    form = HookForm(prefix="hook")
    if not form.validate_on_submit():
        return _page(hook_form=form, status=400)
    try:
        hook = webhooks.add_hook(
            url=form.url.data,
            events=webhooks.parse_events(form.events.data),
            format=HookFormat(form.format.data),
            room=form.room.data or None,
            token=form.token.data or None,
        )
    except ServiceError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _page(hook_form=form, status=400)
    db.session.commit()
    shown = NewHook(hook.id, hook.url, hook.secret if hook.format == HookFormat.STANDARD else None)
    return _page(new_hook=shown)


@dataclass(frozen=True)
class NewHook:
    hook_id: int
    url: str
    secret: str | None


def _hook_action(action, message: str):
    if not ActionForm().validate_on_submit():
        abort(400, description="The form expired. Reload the page and try again.")
    return run_action(action, message, url_for(".index"))


@bp.post("/hooks/<int:hook_id>/remove")
def remove_hook(hook_id: int):
    return _hook_action(lambda: webhooks.remove_hook(hook_id=hook_id), f"Hook {hook_id} removed.")


@bp.post("/hooks/<int:hook_id>/retry")
def retry(hook_id: int):
    return _hook_action(
        lambda: webhooks.retry_dead(hook_id=hook_id),
        lambda n: f"{plural(n, 'dead message')} of hook {hook_id} will be tried again.",
    )
