"""``openspaces notes``: the plain notes in a photo, in their cells when the event's board shows."""

from __future__ import annotations

import dataclasses
import json

import cv2
import numpy as np
from app_wall import wall_for

from benchmarks.photographer import NoteSpec, _paste, note_art, photograph

A, C = "Hall A", "Hall C"
TEN, TWELVE = "2026-09-26T10:00", "2026-09-26T12:00"


def _wall_with_notes(manifest: dict, tmp_path, notes: dict[tuple[str, str], NoteSpec]):
    """Write a photo of the event's board: its first sticky in Hall B at 11:00, plain notes."""
    wall = wall_for(manifest)
    board = wall.board
    image = board.wall.copy()
    code = manifest["stickies"][0]["code"]
    _paste(
        image,
        wall.arts[code],
        tuple(board.cell_corners_mm("Hall B", "2026-09-26T11:00").mean(axis=0)),
        0.0,
        board.px_per_mm,
    )
    for (room, slot), note in notes.items():
        centre = board.cell_corners_mm(room, slot).mean(axis=0)
        _paste(
            image,
            note_art(note, px_per_mm=board.px_per_mm),
            tuple(centre),
            note.angle_deg,
            board.px_per_mm,
        )
    shot = photograph(dataclasses.replace(board, wall=image, _blurred={}), wall.camera, seed=2)
    path = tmp_path / "wall.png"
    cv2.imwrite(str(path), shot.image)
    return path


NOTES = {
    (A, TEN): NoteSpec("Rust for Pythonistas", "yellow", (76, 76), angle_deg=3.0, writing_seed=1),
    (C, TWELVE): NoteSpec("Game jams", "pink", (90, 70), angle_deg=-4.0, writing_seed=2),
}


def test_notes_json_gives_each_plain_note_its_cell(runner, wall_event, tmp_path):
    photo = _wall_with_notes(wall_event, tmp_path, NOTES)
    result = runner.invoke("notes", str(photo), "--json")
    assert result.exit_code == 0, result.output
    notes = json.loads(result.output)["notes"]
    assert [(n["color"], n["cell"]) for n in notes] == [
        ("yellow", {"room": A, "slot": TEN}),
        ("pink", {"room": C, "slot": TWELVE}),
    ]
    for n in notes:
        assert len(n["quad"]) == 4 and all(len(p) == 2 for p in n["quad"])
        assert n["ink"] > 0.01


def test_notes_table_for_people(runner, wall_event, tmp_path):
    photo = _wall_with_notes(wall_event, tmp_path, NOTES)
    result = runner.invoke("notes", str(photo))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["#", "colour", "cell", "centre", "ink"]
    assert [line.split()[:4] for line in lines[1:]] == [
        ["1", "yellow", "Hall", "A"],
        ["2", "pink", "Hall", "C"],
    ]


def test_notes_without_an_event_lists_notes_without_cells(runner, tmp_path):
    wall = np.full((900, 1200, 3), (200, 205, 210), np.uint8)
    for colour, (x0, y0) in (((120, 230, 255), (150, 200)), ((200, 150, 255), (700, 400))):
        cv2.rectangle(wall, (x0, y0), (x0 + 200, y0 + 200), colour, -1)
    photo = tmp_path / "notes.jpg"
    cv2.imwrite(str(photo), wall)
    result = runner.invoke("notes", str(photo), "--json")
    assert result.exit_code == 0, result.output
    notes = json.loads(result.output)["notes"]
    assert [(n["color"], n["cell"]) for n in notes] == [("yellow", None), ("pink", None)]
    xs = [sum(p[0] for p in n["quad"]) / 4 for n in notes]
    assert [round(x) for x in xs] == [250, 800]


def test_notes_of_a_file_that_is_no_photo_fail_clearly(runner, tmp_path):
    text = tmp_path / "notes.jpg"
    text.write_text("not a photo", encoding="utf-8")
    result = runner.invoke("notes", str(text))
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: {text}: not an image")
    missing = runner.invoke("notes", str(tmp_path / "gone.jpg"))
    assert missing.exit_code == 1
    assert "cannot read image" in missing.output
