"""``openspaces notes``: the plain notes (paper without our codes) found in a photo."""

from __future__ import annotations

import dataclasses
import json

import click

from app.cli.common import load_manifest


@click.command("notes")
@click.argument("photo", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the notes as JSON.")
@click.option(
    "--manifest",
    "manifest_path",
    type=click.Path(dir_okay=False),
    help="Scanner manifest from `openspaces manifest`; default: the local instance's event, "
    "if one is loaded.",
)
@click.pass_context
def notes(ctx, photo: str, as_json: bool, manifest_path: str | None) -> None:
    """List the plain notes in PHOTO: sticky notes, cards and sheets without our codes.

    With an event (or --manifest) whose board the photo shows, each note comes with its cell
    ("off grid" outside the grid); in any other photo every note is listed without a cell.
    Paper carrying one of our codes (printed stickies, kit cards) is never a plain note. Corners are photo pixels from the top-left,
    clockwise from the note's own top-left.
    """
    import scanner

    manifest = load_manifest(ctx, manifest_path, required=False)
    try:
        image = scanner.load_image(photo)
        found, on_board, warnings = _find(scanner, image, manifest)
    except scanner.ScanError as exc:
        raise click.ClickException(f"{photo}: {exc}") from None
    rows = [_row(n, on_board) for n in found]
    if as_json:
        click.echo(json.dumps({"notes": rows}, ensure_ascii=False))
        return
    click.echo(_table(rows, on_board))
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)


def _find(scanner, image, manifest) -> tuple[list, bool, list[str]]:
    """Return the notes, whether they were placed on a board, and the scan's warnings on them."""
    if manifest is not None:
        # Asked for notes, the scan looks for them whatever the event's board usually holds.
        result = scanner.scan(image, dataclasses.replace(manifest, plain_notes=True))
        if result.board_found:
            said = [w for w in result.warnings if w.startswith("plain note")]
            return list(result.notes), True, said
    from scanner.notes import paper_around

    # Without a board, paper around any code read (our stickies, cards, posters) is not a plain note.
    dictionary = manifest.marker_dictionary if manifest is not None else "DICT_4X4_1000"
    codes = scanner.decode_all(image, marker_dictionary=dictionary)
    exclude = [paper_around(c.corners) for c in codes if len(c.corners) == 4]
    return list(scanner.find_notes(image, exclude=exclude)), False, []


def _row(note, on_board: bool) -> dict:
    cell = None
    if on_board and note.room is not None:
        cell = {"room": note.room, "slot": note.slot}
    return {
        "quad": [[round(x, 1), round(y, 1)] for x, y in note.quad],
        "color": note.color,
        "cell": cell,
        "ink": round(note.ink, 4),
    }


def _table(rows: list[dict], on_board: bool) -> str:
    """Return the notes as a table for people: colour, cell, centre and ink."""
    if not rows:
        return "No plain notes found."
    lines = [f"{'#':>3}  {'colour':<7} {'cell':<34} {'centre':<13} ink"]
    for i, row in enumerate(rows, 1):
        if row["cell"] is not None:
            cell = f"{row['cell']['room']} {row['cell']['slot']}"
        else:
            cell = "off grid" if on_board else "-"
        xs, ys = zip(*row["quad"], strict=True)
        centre = f"({sum(xs) / 4:.0f}, {sum(ys) / 4:.0f})"
        lines.append(f"{i:>3}  {row['color']:<7} {cell:<34} {centre:<13} {row['ink']:.3f}")
    return "\n".join(lines)
