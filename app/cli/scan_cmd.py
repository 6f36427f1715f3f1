"""``openspaces scan``: read photos of the wall."""

from __future__ import annotations

import json
from pathlib import Path

import click

from app import instance_folder
from app.cli.common import load_manifest
from app.services.text import plural
from camera.cli import SOURCE_HELP, decoder_option, loop_options, watch

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff")


def _annotation_folder(annotate: str, many: bool) -> Path:
    """Check where --annotate writes, before any photo is scanned; return the folder, made."""
    out = Path(annotate)
    if not many and out.is_dir():
        raise click.BadParameter(
            f"{annotate} is a folder; give a file name", param_hint="--annotate"
        )
    if not many and out.suffix.lower() not in IMAGE_SUFFIXES:
        raise click.BadParameter(
            f"{annotate}: give a file name ending in {', '.join(IMAGE_SUFFIXES)}",
            param_hint="--annotate",
        )
    folder = out if many else out.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise click.BadParameter(
            f"{folder} is a file, not a folder", param_hint="--annotate"
        ) from None
    except OSError as exc:
        raise click.BadParameter(
            f"cannot make the folder {folder}: {exc.strerror}", param_hint="--annotate"
        ) from None
    return folder


def _annotation_path(annotate: str, photo: str, many: bool) -> Path:
    if many:
        return Path(annotate) / f"{Path(photo).stem}-annotated.jpg"
    return Path(annotate)


def _write_annotation(target: Path, picture) -> None:
    """Write the annotated photo, or stop with a message saying why it could not be written."""
    import cv2

    ok, data = cv2.imencode(target.suffix.lower(), picture)
    if not ok:
        raise click.ClickException(f"cannot encode the annotated photo as {target.suffix}")
    try:
        target.write_bytes(data.tobytes())
    except OSError as exc:
        raise click.ClickException(
            f"cannot write the annotated photo to {target}: {exc.strerror}"
        ) from None


@click.command("scan")
@click.argument("photos", nargs=-1, type=click.Path(dir_okay=False))
@click.option(
    "--json", "as_json", is_flag=True, help="Print the result as JSON, one object per photo."
)
@click.option(
    "--annotate",
    type=click.Path(),
    help="Write an annotated copy of the photo here (a folder when several photos are given).",
)
@click.option(
    "--manifest",
    "manifest_path",
    type=click.Path(dir_okay=False),
    help="Scanner manifest from `openspaces manifest`; default: the local instance's event.",
)
@decoder_option
@click.option(
    "--all-codes",
    is_flag=True,
    help="List every QR code and marker decoded anywhere in the "
    "photo, known or not: for finding out why a sticky is not read.",
)
@click.option(
    "--apply",
    "apply_",
    is_flag=True,
    help="Apply each photo's result to the local instance's board and print the changes. "
    "The same photo applied again changes nothing.",
)
@click.option(
    "--camera",
    "camera_source",
    metavar="SOURCE",
    help=f"Watch the wall instead of reading photos: {SOURCE_HELP}",
)
@loop_options(when="With --camera", spool="camera-spool in the instance folder")
@click.pass_context
def scan(
    ctx,
    photos,
    as_json,
    annotate,
    manifest_path,
    decoder,
    all_codes,
    apply_,
    camera_source,
    **loop,
) -> None:
    """Find the board in PHOTOS and say which sticky sits in which room and slot.

    With --camera, watch the wall instead: scan a frame every few seconds and post what changed
    to the board at --post.
    """
    if camera_source is not None:
        if photos or apply_ or all_codes or annotate or as_json:
            raise click.UsageError(
                "--camera watches a source: give no PHOTOS, --apply, --all-codes, --annotate "
                "or --json with it"
            )
        if loop["spool_dir"] is None:
            instance = (ctx.find_root().obj or {}).get("instance")
            loop["spool_dir"] = instance_folder(instance) / "camera-spool"
        # The camera is a package of its own that runs without the web app: it owns the loop.
        watch(source=camera_source, manifest_path=manifest_path, decoder=decoder, **loop)
        return
    if not photos:
        raise click.UsageError("give at least one photo, or --camera SOURCE")
    if apply_ and (all_codes or manifest_path):
        raise click.UsageError(
            "--apply scans against the local instance's event: drop --all-codes and --manifest"
        )
    if annotate:
        _annotation_folder(annotate, len(photos) > 1)
    _scan_photos(ctx, photos, as_json, annotate, manifest_path, decoder, all_codes, apply_)


def _scan_photos(ctx, photos, as_json, annotate, manifest_path, decoder, all_codes, apply_):
    import scanner

    manifest = None if all_codes else load_manifest(ctx, manifest_path, required=True)
    failed = 0
    for photo in photos:
        try:
            image = scanner.load_image(photo)
            if all_codes:
                _emit_codes(
                    photo,
                    scanner.decode_all(image, decoder=decoder, marker_dictionary="DICT_4X4_1000"),
                    as_json,
                )
                continue
            result = scanner.scan(image, manifest, decoder=decoder)
        except scanner.ScanError as exc:
            failed += 1
            click.echo(f"{photo}: {exc}", err=True)
            continue
        payload, lines = _result_lines(result, as_json)
        if apply_:
            applied = _apply(ctx, photo, result, manifest)
            lines += _applied_lines(applied)
            payload = {**payload, "applied": applied}
        _emit(photo, payload, as_json, lines=lines)
        if annotate:
            target = _annotation_path(annotate, photo, len(photos) > 1)
            _write_annotation(target, scanner.annotate(image, result))
            click.echo(f"annotated: {target}", err=True)
    if failed:
        ctx.exit(1)


def _emit_codes(photo, codes, as_json: bool) -> None:
    """Print every code found in a photo (``--all-codes``)."""
    payload = {
        "codes": [
            {"text": c.text, "via": c.via, "x": round(c.x, 1), "y": round(c.y, 1)} for c in codes
        ]
    }
    lines = [f"{c.text}  ({c.via} at {c.x:.0f},{c.y:.0f})" for c in codes]
    _emit(photo, payload, as_json, lines=lines)


def _result_lines(result, as_json: bool) -> tuple[dict, list[str]]:
    """Return a scan's JSON and its lines for people: each sticky, hidden cell and warning."""
    payload = result.to_dict()
    if as_json:
        # Where the scan's time went, stage by stage (scanner.timing); not part of the
        # scan-result contract that cameras post.
        payload["timings"] = result.timings_dict()
    lines = [
        f"{s['code']}  {s['room'] or 'off grid'}  {s['slot'] or ''}  ({s['via']})"
        for s in payload["stickies"]
    ]
    lines += [f"hidden: {room} {slot}" for room, slot in payload["hidden_cells"]]
    lines += [f"warning: {w}" for w in payload["warnings"]]
    if not payload["board_found"]:
        lines.insert(0, "board not found")
    return payload, lines


def _apply(ctx: click.Context, photo: str, result, manifest) -> dict:
    """Apply a photo's scan result (scanned against ``manifest``) to the local board, once per
    photo content.

    The scan id is ``cli-<sha256 of the file>``, so that applying the same photo again is a no-op.
    Return ``{"scan", "duplicate", "changes"}`` as ``POST /api/scans`` answers.
    """
    import hashlib

    from app.services.events import get_current_event
    from app.services.ingest import ingest_result
    from app.services.observations import InvalidScan
    from app.services.uploads import InvalidUpload
    from app.settings import app_settings

    data = Path(photo).read_bytes()
    app = ctx.find_root().meta["openspaces.app"]
    with app.app_context():
        try:
            ingested = ingest_result(
                event=get_current_event(),
                source="cli",
                result=result,
                photo=data,
                scan_id=f"cli-{hashlib.sha256(data).hexdigest()}",
                settings=app_settings(app).scan,
                manifest=manifest,
            )
        except (InvalidScan, InvalidUpload) as exc:
            raise click.ClickException(f"{photo}: not applied: {exc}") from None
        return {
            "scan": ingested.scan.id,
            "duplicate": ingested.duplicate,
            "changes": ingested.changes,
        }


def _applied_lines(applied: dict) -> list[str]:
    if applied["duplicate"]:
        return [f"applied before as scan {applied['scan']}: no changes"]
    changes = applied["changes"]
    lines = [f"applied as scan {applied['scan']}: {plural(len(changes), 'change')}"]
    return lines + [f"  {_describe_change(change)}" for change in changes]


def _describe_change(change: dict) -> str:
    def where(side: dict) -> str:
        if side["room"] is not None:
            return f"{side['room']} {side['slot']}" + (
                " (conflict)" if side["status"] == "conflict" else ""
            )
        return {"off_grid": "off grid", "none": "not on the board"}.get(
            side["status"], side["status"]
        )

    title = f" {change['title']!r}" if change.get("title") else ""
    return f"{change['code']}{title}: {where(change['from'])} -> {where(change['to'])}"


def _emit(photo: str, payload: dict, as_json: bool, *, lines: list[str]) -> None:
    if as_json:
        click.echo(json.dumps(payload, ensure_ascii=False))
        return
    click.echo(f"{photo}:")
    for line in lines or ["nothing found"]:
        click.echo(f"  {line}")
