"""Organizer print downloads: new sticky batches, the board kit, and reprints."""

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
    url_for,
)

from app.extensions import db
from app.forms import ActionForm, PrintForm
from app.models import PrintBatch
from app.services import ServiceError
from app.services.printing import (
    batch_filename,
    check_print_options,
    event_batch,
    kind_from,
    list_batches,
    marker_id_warning,
    render_batch,
    render_kit,
)
from app.services.stickies import allocate_stickies, discard_batch
from app.settings import app_settings
from app.views.common import current_event_or_404, organizer_required

bp = Blueprint("printing", __name__, url_prefix="/admin/print")


@bp.before_request
@organizer_required
def _require_login():
    return None


def _pdf(data: bytes, filename: str) -> Response:
    return Response(
        data,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.route("/", methods=["GET", "POST"])
def index():
    from printables import TEMPLATES

    event = current_event_or_404()
    form = PrintForm()
    form.template.choices = list(TEMPLATES)
    if form.validate_on_submit():
        try:
            check_print_options(template=form.template.data, paper=form.paper.data, fmt="pdf")
            batch = allocate_stickies(
                event=event,
                count=form.count.data,
                kind=kind_from(form.kind.data),
                template=form.template.data,
                paper=form.paper.data,
            )
        except ServiceError as exc:
            db.session.rollback()
            flash(str(exc), "error")
            return redirect(url_for(".index"))
        # Commit before drawing, which takes a while: other prints, claims and scans need not wait.
        db.session.commit()
        try:
            data = render_batch(event, batch, fmt="pdf", output=None)
        except BaseException as exc:
            db.session.rollback()
            discard_batch(batch=batch)
            db.session.commit()
            if not isinstance(exc, ServiceError):
                raise
            flash(str(exc), "error")
            return redirect(url_for(".index"))
        warning = marker_id_warning(event=event)
        if warning:
            flash(warning, "error")  # shown on the next page, as the PDF downloads
        return _pdf(data, batch_filename(event, batch))
    status = 400 if form.errors else 200
    return render_template(
        "admin/print.html",
        event=event,
        form=form,
        batches=list_batches(event),
        marker_warning=marker_id_warning(event=event),
        action_form=ActionForm(),
    ), status


@bp.get("/kit.pdf")
def kit():
    event = current_event_or_404()
    paper = request.args.get("paper", "a4")
    if paper not in ("a4", "letter"):
        abort(400, description="Choose a4 or letter paper.")
    try:
        data = render_kit(
            event,
            fmt="pdf",
            paper=paper,
            output=None,
            photo_retention_days=app_settings(current_app).storage.photo_retention_days,
        )
    except ServiceError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".index"))
    return _pdf(data, f"{event.slug}-board-kit-{paper}.pdf")


def _batch_or_404(event, batch_id: int) -> PrintBatch:
    batch = event_batch(event, batch_id)
    if batch is None:
        abort(404)
    return batch


def _zip(folder, filename: str) -> Response:
    import io
    import zipfile
    from pathlib import Path

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:  # PNGs are compressed already
        for path in sorted(Path(folder).iterdir()):
            archive.write(path, path.name)
    return Response(
        buffer.getvalue(),
        mimetype="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.get("/kit.zip")
def kit_png():
    """Download the kit as PNG files (corner-tl.png … room-1.png … slot-1.png) in a zip."""
    import tempfile

    event = current_event_or_404()
    with tempfile.TemporaryDirectory() as folder:
        try:
            render_kit(
                event,
                fmt="png",
                paper="a4",
                output=folder,
                photo_retention_days=app_settings(current_app).storage.photo_retention_days,
            )
        except ServiceError as exc:
            flash(str(exc), "error")
            return redirect(url_for(".index"))
        return _zip(folder, f"{event.slug}-board-kit-png.zip")


@bp.get("/batch/<int:batch_id>.zip")
def reprint_png(batch_id: int):
    """Download a batch as one edge-to-edge PNG per sticky, CODE.png, in a zip."""
    import tempfile

    event = current_event_or_404()
    batch = _batch_or_404(event, batch_id)
    with tempfile.TemporaryDirectory() as folder:
        render_batch(event, batch, fmt="png", output=folder)
        return _zip(folder, f"{event.slug}-batch{batch.id}-png.zip")


@bp.get("/batch/<int:batch_id>.pdf")
def reprint(batch_id: int):
    event = current_event_or_404()
    batch = _batch_or_404(event, batch_id)
    return _pdf(render_batch(event, batch, fmt="pdf", output=None), batch_filename(event, batch))
