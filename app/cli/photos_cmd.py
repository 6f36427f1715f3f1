"""``openspaces photos``: the wall photos kept, and deleting them after the retention period."""

from __future__ import annotations

import click

from app.cli.common import fail_on_service_error, pass_app
from app.services.text import plural


@click.group("photos")
def photos() -> None:
    """Wall photos: who is in them is kept only for the retention period."""


@photos.command("purge")
@click.option(
    "--days",
    type=click.IntRange(min=0),
    default=None,
    help="Days after the event's last slot ends that photos are kept "
    "[default: PHOTO_RETENTION_DAYS, 7].",
)
@click.option("--dry-run", is_flag=True, help="Say what would be deleted, and delete nothing.")
@pass_app
@fail_on_service_error
def purge(app, days: int | None, dry_run: bool) -> None:
    """Delete the wall photos past their retention period; their blurred copies stay.

    Photos as taken, annotated and as thumbnails show whoever stood at the wall: they are deleted
    once the retention period after the event's end is over. The time-lapse keeps each photo's
    copy with the faces blurred, made before the photo goes; sticky pictures are kept.
    """
    from app.services.photos import purge_photos
    from app.settings import app_settings

    settings = app_settings(app)
    if days is None:
        days = settings.storage.photo_retention_days
    with app.app_context():
        done = purge_photos(
            store=settings.scan.scans_store,
            retention_days=days,
            dry_run=dry_run,
        )
    verb = "Would delete" if dry_run else "Deleted"
    freed = "would free" if dry_run else "freed"
    click.echo(
        f"{verb} {plural(done.files, 'photo')} of {plural(done.scans, 'scan')} "
        f"more than {plural(days, 'day')} past the event's end; {freed} {_size(done.bytes)}."
    )


def _size(count: int) -> str:
    """Return a byte count as people read it: 0 bytes, 812 kB, 3.4 MB."""
    if count < 1000:
        return plural(count, "byte")
    if count < 1_000_000:
        return f"{count / 1000:.0f} kB"
    if count < 1_000_000_000:
        return f"{count / 1_000_000:.1f} MB"
    return f"{count / 1_000_000_000:.2f} GB"
