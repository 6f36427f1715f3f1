"""``openspaces scan``: read photos of the wall."""

from __future__ import annotations

import json
from pathlib import Path

import click


def _load_manifest(ctx: click.Context, manifest_path: str | None):
    """Return the scanner manifest from a file, or from the local instance's current event."""
    from scanner import Manifest, ScanError

    if manifest_path:
        try:
            return Manifest.load(manifest_path)
        except ScanError as exc:
            raise click.ClickException(f"{manifest_path}: {exc}") from None
    from app import create_app
    from app.services.board import build_manifest
    from app.services.events import get_current_event

    root = ctx.find_root()
    instance = (root.obj or {}).get("instance")
    app = create_app({"INSTANCE_PATH": instance} if instance else None)
    root.meta["openspaces.app"] = app
    with app.app_context():
        event = get_current_event()
        if event is None:
            raise click.ClickException(
                "no event is loaded; run `openspaces event load FILE.toml` or pass --manifest FILE"
            )
        return Manifest.from_dict(build_manifest(event))


def _annotation_path(annotate: str, photo: str, many: bool) -> Path:
    out = Path(annotate)
    if many:
        out.mkdir(parents=True, exist_ok=True)
        return out / f"{Path(photo).stem}-annotated.jpg"
    out.parent.mkdir(parents=True, exist_ok=True)
    return out


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
@click.option(
    "--decoder", default="auto", show_default=True, help="QR decoder: auto, zxing, zbar or opencv."
)
@click.option(
    "--all-codes",
    is_flag=True,
    help="List every QR code and marker decoded anywhere in the "
    "photo, known or not: for finding out why a sticky is not read.",
)
@click.pass_context
def scan(ctx, photos, as_json, annotate, manifest_path, decoder, all_codes) -> None:
    """Find the board in PHOTOS and say which sticky sits in which room and slot."""
    import cv2

    import scanner

    if not photos:
        raise click.UsageError("give at least one photo")
    if decoder not in scanner.DECODERS:
        raise click.BadParameter(
            f"choose one of: {', '.join(scanner.DECODERS)}", param_hint="--decoder"
        )
    manifest = None if all_codes else _load_manifest(ctx, manifest_path)
    failed = 0
    for photo in photos:
        try:
            image = scanner.load_image(photo)
            if all_codes:
                dictionary = "DICT_4X4_1000"
                codes = scanner.decode_all(image, decoder=decoder, marker_dictionary=dictionary)
                payload = {
                    "codes": [
                        {"text": c.text, "via": c.via, "x": round(c.x, 1), "y": round(c.y, 1)}
                        for c in codes
                    ]
                }
                _emit(
                    photo,
                    payload,
                    as_json,
                    lines=[f"{c.text}  ({c.via} at {c.x:.0f},{c.y:.0f})" for c in codes],
                )
                continue
            result = scanner.scan(image, manifest, decoder=decoder)
        except scanner.ScanError as exc:
            failed += 1
            click.echo(f"{photo}: {exc}", err=True)
            continue
        payload = result.to_dict()
        lines = [
            f"{s['code']}  {s['room'] or 'off grid'}  {s['slot'] or ''}  ({s['via']})"
            for s in payload["stickies"]
        ]
        lines += [f"hidden: {room} {slot}" for room, slot in payload["hidden_cells"]]
        lines += [f"warning: {w}" for w in payload["warnings"]]
        if not payload["board_found"]:
            lines.insert(0, "board not found")
        _emit(photo, payload, as_json, lines=lines)
        if annotate:
            target = _annotation_path(annotate, photo, len(photos) > 1)
            cv2.imwrite(str(target), scanner.annotate(image, result))
            click.echo(f"annotated: {target}", err=True)
    if failed:
        ctx.exit(1)


def _emit(photo: str, payload: dict, as_json: bool, *, lines: list[str]) -> None:
    if as_json:
        click.echo(json.dumps(payload, ensure_ascii=False))
        return
    click.echo(f"{photo}:")
    for line in lines or ["nothing found"]:
        click.echo(f"  {line}")
