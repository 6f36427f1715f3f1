"""Time the stages of a scan: wall and processor milliseconds per stage, in the order they ran.

Processor time is the whole process's (`time.process_time`), so that OpenCV's worker threads
count; a stage that runs twice (the second look at unreadable cells runs the board stages
again) adds up under its one name.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class StageTime:
    """Say how long one stage of a scan took: wall and processor milliseconds."""

    stage: str
    wall_ms: float
    cpu_ms: float

    def to_dict(self) -> dict:
        return {"wall_ms": round(self.wall_ms, 1), "cpu_ms": round(self.cpu_ms, 1)}


class Stopwatch:
    """Add up the wall and processor time of named stages."""

    def __init__(self) -> None:
        self._spent: dict[str, tuple[float, float]] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the block under `name`, added to what the name already holds."""
        w0, c0 = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            wall, cpu = self._spent.get(name, (0.0, 0.0))
            self._spent[name] = (
                wall + (time.perf_counter() - w0) * 1000,
                cpu + (time.process_time() - c0) * 1000,
            )

    def times(self) -> tuple[StageTime, ...]:
        """Return every stage timed so far, in the order each first ran."""
        return tuple(StageTime(name, wall, cpu) for name, (wall, cpu) in self._spent.items())


def timings_dict(timings: tuple[StageTime, ...]) -> dict[str, dict]:
    """Return {stage: {"wall_ms", "cpu_ms"}} with a "total" over all stages, rounded to 0.1 ms."""
    out = {t.stage: t.to_dict() for t in timings}
    if timings:
        total = StageTime("total", sum(t.wall_ms for t in timings), sum(t.cpu_ms for t in timings))
        out["total"] = total.to_dict()
    return out
