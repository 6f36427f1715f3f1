"""Read handwritten titles in a child process at the lowest CPU priority.

Reading one title takes about a second of a core. In the process that serves the board it would
compete with scan ingest and page views for the CPU (and for Python's interpreter lock), so a
`TitleReader` hands each picture to a child process, ``python -m scanner.ocr_process``, which
runs at nice 19: on a busy machine it gets only the CPU time nobody else wants, and on an idle one
all of a core.

The child reads one request per line on its standard input and answers one line on its standard
output, both JSON:

- request: ``{"path": "...", "area": {"box": [...], "keepout": [...], "width_mm": 76.0} or null,
  "engine": "rapidocr", "px_per_mm": 4.0 or null, "blank": "..." or null}``, where ``blank`` is
  a picture of the same sticky as printed: what it shows is taken away before reading.
- answer: ``{"text": "...", "confidence": 0.93}``, or ``{"text": null}`` when nothing was read.

A child that dies or does not answer within `timeout_s` is killed and started again for the next
picture; the picture it was reading gets no suggestion, and that is logged.
"""

from __future__ import annotations

import json
import logging
import os
import select
import subprocess
import sys
import threading
from dataclasses import asdict
from pathlib import Path

from scanner.ocr import DEFAULT_ENGINE, MIN_PX_PER_MM, TitleGuess, WritingArea, engine_ready

log = logging.getLogger(__name__)

NICE = 19
TIMEOUT_S = 120.0


class TitleReader:
    """Read titles with `engine` in one low-priority child process, started on first use."""

    def __init__(self, *, engine: str = DEFAULT_ENGINE, timeout_s: float = TIMEOUT_S) -> None:
        self.engine = engine
        self.timeout_s = timeout_s
        self._proc: subprocess.Popen | None = None
        self._lock = threading.Lock()

    def read(
        self,
        path: str | Path,
        *,
        area: WritingArea | None,
        px_per_mm: float | None = None,
        blank: str | Path | None = None,
    ) -> TitleGuess | None:
        """Return the title on the picture at `path`, or None (nothing legible, or a failure).

        A picture too coarse to read, or an engine that is not installed, is answered here
        without a child process (the latter logged once, as scanner.ocr.read_title does).
        """
        if px_per_mm is not None and px_per_mm < MIN_PX_PER_MM:
            return None
        if not engine_ready(self.engine):
            return None
        request = {
            "path": str(path),
            "area": asdict(area) if area is not None else None,
            "engine": self.engine,
            "px_per_mm": px_per_mm,
            "blank": str(blank) if blank is not None else None,
        }
        with self._lock:
            try:
                answer = self._ask(json.dumps(request))
            except (OSError, ValueError, TimeoutError) as exc:
                log.warning("title recognition of %s failed: %s; starting a new reader", path, exc)
                self._kill()
                return None
        if not isinstance(answer, dict) or not answer.get("text"):
            return None
        return TitleGuess(text=str(answer["text"]), confidence=float(answer["confidence"]))

    def close(self) -> None:
        """End the child process (it finishes nothing: a picture being read gets no suggestion)."""
        with self._lock:
            self._kill()

    def _ask(self, line: str):
        proc = self._child()
        proc.stdin.write(line + "\n")
        proc.stdin.flush()
        ready, _, _ = select.select([proc.stdout], [], [], self.timeout_s)
        if not ready:
            raise TimeoutError(f"no answer within {self.timeout_s:g} s")
        reply = proc.stdout.readline()
        if not reply:
            raise OSError(f"the reader exited with status {proc.wait()}")
        return json.loads(reply)

    def _child(self) -> subprocess.Popen:
        if self._proc is None or self._proc.poll() is not None:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "scanner.ocr_process"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                bufsize=1,
                env={**os.environ, "OMP_NUM_THREADS": "1"},
            )
        return self._proc

    def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        for pipe in (proc.stdin, proc.stdout):
            if pipe is not None:
                pipe.close()


def answer(request: dict) -> dict:
    """Read the title a request names (see the module's docstring) and return the answer."""
    from scanner.ocr import read_title

    area = request.get("area")
    guess = read_title(
        Path(request["path"]),
        area=WritingArea(
            box=tuple(area["box"]), keepout=tuple(area["keepout"]), width_mm=area["width_mm"]
        )
        if area
        else None,
        engine=request.get("engine") or DEFAULT_ENGINE,
        px_per_mm=request.get("px_per_mm"),
        blank=Path(request["blank"]) if request.get("blank") else None,
    )
    if guess is None:
        return {"text": None}
    return {"text": guess.text, "confidence": guess.confidence}


def main() -> int:
    """Answer requests from standard input until it closes, at the lowest CPU priority."""
    try:
        os.nice(NICE)
    except OSError:  # not on this system: read at normal priority
        pass
    logging.basicConfig(level=logging.WARNING, format="scanner.ocr_process: %(message)s")
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            reply = answer(json.loads(line))
        except Exception as exc:  # noqa: BLE001 - one bad picture must not end the reader
            log.warning("cannot read %s: %s", line.strip()[:200], exc)
            reply = {"text": None}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
