"""The second look: cells that hold an unread sticky are read again close up, and the board is
judged again with what they showed, without rectifying the same board twice."""

import numpy as np

import scanner.pipeline as pipeline
from benchmarks import scan_bench
from benchmarks.photographer import make_board
from scanner import Manifest, scan


def _combined_frame(seed=3):
    """Return a 1080p frame of the benchmark's combined condition and its manifest: blur,
    noise, compression, uneven light and a person, where close-ups read stickies."""
    condition = next(c for c in scan_bench.CONDITIONS if c.name == "combined")
    board = make_board(condition.board, seed=seed)
    take = scan_bench._take(condition, board, condition.camera(np.random.default_rng(seed)), seed)
    return take.shot, Manifest.from_dict(board.manifest)


def _spy_cell_states(monkeypatch):
    calls = []
    real = pipeline.cell_states

    def spy(img, frame, grid, *args, **kwargs):
        calls.append((img, frame, grid, kwargs["copies"]))
        return real(img, frame, grid, *args, **kwargs)

    monkeypatch.setattr(pipeline, "cell_states", spy)
    return calls


def test_second_look_judges_the_same_board_on_the_same_copy(monkeypatch):
    shot, manifest = _combined_frame()
    calls = _spy_cell_states(monkeypatch)
    result = scan(shot.image, manifest)
    truth = {s.code: (s.room, s.slot) for s in shot.stickies}
    assert all(truth[s.code] == (s.room, s.slot) for s in result.stickies)
    # Close-ups read more stickies, so the cells were judged twice, on one board.
    assert len(calls) == 2
    (img, frame, grid, copies), again = calls
    assert again[1] is frame and again[2] is grid and again[3] is copies
    kept = copies.of(img, frame, grid, 480)
    assert copies.of(img, frame, grid, 480) is kept
    assert copies.of(img.copy(), frame, grid, 480) is not kept


def test_second_look_places_as_if_it_had_located_the_board_again(monkeypatch):
    shot, manifest = _combined_frame()
    kept = scan(shot.image, manifest)
    real = pipeline._analyse
    monkeypatch.setattr(pipeline, "_analyse", lambda ctx, found, board=None: real(ctx, found))
    again = scan(shot.image, manifest)
    assert {(s.code, s.room, s.slot) for s in kept.stickies} == {
        (s.code, s.room, s.slot) for s in again.stickies
    }
    assert kept.hidden_cells == again.hidden_cells
    assert [(c.room, c.slot, c.reason) for c in kept.cells] == [
        (c.room, c.slot, c.reason) for c in again.cells
    ]
    assert (
        max(
            abs(a.x - b.x) + abs(a.y - b.y)
            for a, b in zip(kept.stickies, again.stickies, strict=True)
        )
        < 0.01
    )
