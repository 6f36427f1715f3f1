"""``openspaces print``: sticky sheets and the board kit."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from app.cli.common import fail_on_service_error, pass_app, with_event
from app.services.text import plural
from app.settings import app_settings


class _Bar:
    """Adapt printables' ``progress(done, total)`` calls to a click progress bar."""

    def __init__(self, label: str):
        self.label, self.bar, self.done = label, None, 0

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            self.bar = click.progressbar(length=total, label=self.label, file=sys.stderr)
            self.bar.__enter__()
        self.bar.update(done - self.done)
        self.done = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


@click.group("print")
def print_group() -> None:
    """Print sticky sheets and the board kit (PDF, or PNG files)."""


@print_group.command("list-templates")
def list_templates() -> None:
    """Show the sticky templates with their sizes and papers."""
    from printables import TEMPLATES

    for template in TEMPLATES.values():
        size = f"{round(template.sticky_w_mm, 1):g} x {round(template.sticky_h_mm, 1):g} mm"
        click.echo(
            f"{template.name:<14} {size:<17} {'/'.join(template.papers):<10} {template.description}"
        )


_FORMAT = click.option(
    "--format",
    "fmt",
    type=click.Choice(["pdf", "png"]),
    default="pdf",
    show_default=True,
    help="pdf: one printable file; png: one image per sticky or card, into the OUT folder.",
)
_DPI = click.option(
    "--dpi",
    type=click.IntRange(72, 1200),
    default=300,
    show_default=True,
    help="Resolution of PNG output.",
)


_OUTPUT = click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    required=True,
    help="The PDF file, or the folder for PNG files.",
)


def _draw(label: str, draw, *, output: Path, fmt: str) -> str:
    """Run ``draw(progress)`` under a progress bar and write its result; return where it went."""
    bar = _Bar(label)
    try:
        return _write(output, draw(bar), fmt)
    except OSError as exc:
        raise click.ClickException(f"cannot write {output}: {exc.strerror or exc}") from None
    finally:
        bar.close()


def _write(output: Path, result, fmt: str) -> str:
    if fmt == "pdf":
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_bytes(result)
        return f"{output}"
    return f"{len(result)} PNG files in {output}"


@print_group.command("stickies")
@click.option("--count", "-n", type=int, required=True, help="How many new stickies (1 to 10000).")
@click.option(
    "--kind",
    type=click.Choice(["session", "person"]),
    default="session",
    show_default=True,
    help="Session stickies go on the grid; person stickies in the people area.",
)
@click.option(
    "--template",
    default="note-76",
    show_default=True,
    help="Sticky template; see `openspaces print list-templates`.",
)
@click.option("--paper", default="a4", show_default=True, help="Paper size: a4 or letter.")
@_FORMAT
@_DPI
@_OUTPUT
@pass_app
@with_event
@fail_on_service_error
def print_stickies(app, event, count, kind, template, paper, fmt, dpi, output) -> None:
    """Issue COUNT new stickies and write them, ready to print."""
    from app.extensions import db
    from app.services.printing import (
        check_output,
        check_print_options,
        kind_from,
        marker_id_warning,
        render_batch,
    )
    from app.services.stickies import allocate_stickies, discard_batch

    check_print_options(template=template, paper=paper.lower(), fmt=fmt)
    check_output(output, fmt=fmt)
    batch = allocate_stickies(
        event=event, count=count, kind=kind_from(kind), template=template, paper=paper.lower()
    )
    # Commit before drawing, which takes a while: other prints, claims and scans need not wait.
    db.session.commit()
    try:
        where = _draw(
            f"Drawing {plural(count, f'{kind} sticky')}",
            lambda bar: render_batch(event, batch, fmt=fmt, output=output, dpi=dpi, progress=bar),
            output=output,
            fmt=fmt,
        )
    except BaseException:
        # Only a batch that reached the disk is kept: a failed print issues no codes.
        db.session.rollback()
        discard_batch(batch=batch)
        db.session.commit()
        raise
    stickies = plural(count, f"{kind} sticky")
    click.echo(f"Batch {batch.id}: {stickies} ({template}, {paper}) -> {where}")
    warning = marker_id_warning(event=event)
    if warning:
        click.echo(f"Note: {warning}", err=True)


@print_group.command("kit")
@click.option("--paper", default="a4", show_default=True, help="Paper size: a4 or letter.")
@_FORMAT
@_DPI
@_OUTPUT
@pass_app
@with_event
@fail_on_service_error
def print_kit(app, event, paper, fmt, dpi, output) -> None:
    """Write the board kit: corner markers, room and slot header cards, and the poster."""
    from app.services import ServiceError
    from app.services.printing import PAPERS, check_output, render_kit

    if paper.lower() not in PAPERS:
        raise ServiceError(f"unknown paper {paper!r}; choose one of: {', '.join(PAPERS)}")
    check_output(output, fmt=fmt)
    where = _draw(
        "Drawing the board kit",
        lambda bar: render_kit(
            event,
            fmt=fmt,
            paper=paper.lower(),
            output=output,
            dpi=dpi,
            progress=bar,
            photo_retention_days=app_settings(app).storage.photo_retention_days,
        ),
        output=output,
        fmt=fmt,
    )
    rooms, slots = plural(len(event.rooms), "room"), plural(len(event.slots), "slot")
    click.echo(f"Board kit for {rooms} and {slots} -> {where}")


@print_group.command("batch")
@click.argument("batch_id", type=int)
@_FORMAT
@_DPI
@_OUTPUT
@pass_app
@with_event
@fail_on_service_error
def print_batch(app, event, batch_id, fmt, dpi, output) -> None:
    """Reprint an earlier batch with the same codes and claim keys.

    A batch printed before stickies had claim keys gets them on this reprint: until then only
    organizers can claim its blank stickies.
    """
    from app.services import ServiceError
    from app.services.printing import check_output, event_batch, render_batch

    batch = event_batch(event, batch_id)
    if batch is None:
        raise ServiceError(f"no print batch {batch_id} in this event")
    check_output(output, fmt=fmt)
    where = _draw(
        f"Drawing batch {batch_id}",
        lambda bar: render_batch(event, batch, fmt=fmt, output=output, dpi=dpi, progress=bar),
        output=output,
        fmt=fmt,
    )
    click.echo(f"Batch {batch.id} reprinted -> {where}")
