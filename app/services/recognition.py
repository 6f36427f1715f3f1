"""Suggested titles: the handwriting on each sticky's best picture, read off the request path.

- When a transaction that kept a new best picture of a sticky commits, the sticky goes into a
  bounded queue; one worker thread per app process (started on first use, with its own app
  context and database session) has the title read by a child process at the lowest CPU
  priority (scanner.ocr_process) and keeps it as the sticky's ``suggested_title``. Scan ingest
  only pays for a queue put; a full queue drops the sticky (and logs once), so ingest never
  waits for recognition, and the reading only takes CPU time that serving pages leaves over.
- A suggestion is only a suggestion: it never replaces a typed or confirmed title, and a sticky
  that has a title is not read at all. A picture that reads as nothing leaves the suggestion as
  it was. A reading of a picture that was replaced meanwhile is thrown away; the newer picture
  has its own turn.
- Reading waits for a quiet moment: a picture is read once no request has come in for
  QUIET_S seconds (``note_request``, called by the app for every request), or after
  LONGEST_WAIT_S when requests never pause (a break with every phone on the board). A wall
  camera posts every few seconds, so titles appear within seconds of their picture. The child
  process runs at the lowest priority as well, but on two cores a reading still slows a
  request that runs beside it.
- A missing engine or a failure leaves the suggestion empty and logs once (scanner.ocr).
- A process that stops drops the stickies still queued. The first request of the next one
  (``catch_up``) queues every untitled sticky of the current event whose best picture has no
  suggestion yet. Several workers share that work: each starts at a place of its own in the
  list and leaves a picture that another has read meanwhile.

Settings: the app's ``RecognitionSettings`` (app.settings): ``OCR_ENGINE`` (an engine of
scanner.ocr, or None to read nothing), ``OCR_QUEUE_SIZE`` and ``OCR_DROP_PRINT`` (take away what
the sticky as printed shows before reading; off, since on the benchmark's pictures it read no
more: benchmarks/OCR.md, section 1).
A reading at SHOW_CONFIDENCE or more stands as the title until someone types one (`wall_title`).
"""

from __future__ import annotations

import atexit
import logging
import queue
import random
import tempfile
import threading
import time
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import or_, select

from app.extensions import db
from app.models import Sticky
from app.services.storage import Storage, local_copy
from app.settings import RecognitionSettings, app_settings

if TYPE_CHECKING:
    from scanner.ocr_process import TitleReader

log = logging.getLogger(__name__)

_EXTENSION = "openspaces.recognition"
_MAKING = threading.Lock()  # one recogniser per app, even when two commits ask at once
MAX_SUGGESTION = 120  # Sticky.suggested_title's length
QUIET_S = 0.5  # no request for this long: the server is quiet, a title may be read
LONGEST_WAIT_S = 10.0  # a server that is never quiet still gets a title read this often
_last_request = [0.0]  # time.monotonic() of the latest request in this process


def note_request(app) -> None:
    """Note that a request to ``app`` came in: reading titles waits until requests pause.

    The app's first request also queues the pictures a stopped process left unread (``catch_up``).
    """
    _last_request[0] = time.monotonic()
    worker = recogniser(app)
    if worker is not None:
        worker.catch_up()


def wait_for_quiet(
    stop: threading.Event, quiet_s: float = QUIET_S, longest_s: float = LONGEST_WAIT_S
) -> bool:
    """Wait until no request has come in for `quiet_s` seconds, or `longest_s` seconds at most;
    return False if `stop` was set."""
    until = time.monotonic() + longest_s
    while not stop.is_set():
        now = time.monotonic()
        idle = now - _last_request[0]
        if idle >= quiet_s or now >= until:
            return True
        stop.wait(min(quiet_s - idle, until - now))
    return False


DEFAULT_TEMPLATE = "note-76"


@cache
def writing_area(template: str):
    """Return the writing area (scanner.ocr.WritingArea) of a printables template."""
    from printables import get_template
    from scanner.ocr import writing_area as area

    t = get_template(template)
    return area(
        sticky_mm=(t.sticky_w_mm, t.sticky_h_mm),
        margin_mm=t.margin_mm,
        marker_origin_mm=t.marker_origin,
        marker_side_mm=t.marker_side_mm,
        marker_cell_mm=t.marker_cell_mm,
        qr_origin_mm=t.qr_origin,
        qr_side_mm=t.qr_side_mm,
    )


def read_picture_title(
    *,
    path: Path,
    template: str,
    reader: TitleReader,
    px_per_mm: float | None = None,
    cut_mm: tuple[float, float, float, float] | None = None,
    blank: Path | None = None,
):
    """Return the title (scanner.ocr.TitleGuess) written on the picture at `path`, or None.

    `reader` reads it in its low-priority process. `px_per_mm` is the camera's resolution on the
    sticky (the picture's score): a view is never stored coarser than 2 px/mm, even when the
    camera saw less. `cut_mm` is the part of the sticky a picture cut to its writing shows
    (app.services.pictures.PictureShape.crop_mm): it is read whole. `blank` is the same part
    of the sticky as printed (`write_blank`): what it shows is taken away before reading.
    """
    if not path.is_file():
        return None
    if cut_mm is not None:
        from scanner.ocr import WritingArea

        area = WritingArea(
            box=(0.0, 0.0, 1.0, 1.0), keepout=(1.0, 1.0), width_mm=cut_mm[2] - cut_mm[0]
        )
    else:
        area = writing_area(template)
    return reader.read(path, area=area, px_per_mm=px_per_mm, blank=blank)


BLANK_PX_PER_MM = 8.0  # the blank sticky is drawn this sharp; the reader scales it to the picture


def write_blank(
    *,
    sticky: Sticky,
    template: str,
    folder: Path,
    cut_mm: tuple[float, float, float, float] | None = None,
) -> Path:
    """Draw the sticky as it was printed, before anyone wrote on it, into a PNG in `folder`;
    only the part `cut_mm` (left, top, right, bottom in mm) when its picture shows only that.

    The reader takes away what this shows (the prompt, the rules, the label, the claim key)
    before it reads, so that only the writing remains (scanner.ocr.drop_print).
    """
    # printing imports board, which is still loading when the app's start imports this module.
    from app.services.printing import sticky_spec
    from printables import sticky_image

    image = sticky_image(
        sticky_spec(sticky.event, sticky), template=template, dpi=BLANK_PX_PER_MM * 25.4
    ).convert("L")
    if cut_mm is not None:
        image = image.crop(tuple(round(v * BLANK_PX_PER_MM) for v in cut_mm))
    path = folder / f"blank-{sticky.id}.png"
    image.save(path)
    return path


def _part_read(sticky: Sticky, shape) -> tuple[float, float, float, float] | None:
    """Return the part of the sticky (mm) its picture shows when the picture is read whole, or
    None when the template's writing area is read.

    A picture cut to its writing is read whole; so is a plain note's, the whole note with nothing
    of ours printed on it.
    """
    if shape is None or not (shape.cut or sticky.plain):
        return None
    return shape.crop_mm


def keep_suggestion(
    *, sticky: Sticky, picture_file: str, text: str | None, confidence: float | None = None
) -> bool:
    """Keep `text`, read from `picture_file`, as the sticky's suggested title; return whether it did.

    Nothing changes when the sticky has a title, when its picture is no longer `picture_file`,
    or when nothing was read. The reader's `confidence` is kept with the picture's score
    (``read_confidence``): it goes when the picture is replaced.
    """
    text = " ".join((text or "").split())[:MAX_SUGGESTION].strip()
    if not text or sticky.title or sticky.picture_file != picture_file:
        return False
    sticky.suggested_title = text
    score = dict(sticky.picture_score or {})
    score["read_confidence"] = None if confidence is None else round(float(confidence), 3)
    sticky.picture_score = score
    return True


# Suggestions read at this confidence or more were right (CER <= 0.25) at least 95% of the time in
# benchmarks/OCR.md (section 4): they are shown as the title until someone types or confirms one.
SHOW_CONFIDENCE = 0.95


def wall_title(sticky: Sticky) -> str | None:
    """Return the title read from the wall that is shown as the sticky's title, or None.

    That is its suggestion when nobody has typed or confirmed a title and the reader was at least
    SHOW_CONFIDENCE sure of it on its current picture; every other suggestion stays a suggestion
    (shown as "looks like", and in the transcription queue).
    """
    if sticky.title or not sticky.suggested_title:
        return None
    confidence = (sticky.picture_score or {}).get("read_confidence")
    if confidence is None or confidence < SHOW_CONFIDENCE:
        return None
    return sticky.suggested_title


def read_new_pictures(app, sticky_ids: Iterable[int]) -> None:
    """Have the app's recogniser read the stickies' new best pictures, each once; none without one.

    Subscribed in create_app (app.effects): it runs once a transaction that stored new best
    pictures (app.services.pictures) has committed, with the ids of their stickies.
    """
    worker = recogniser(app)
    if worker is not None:
        for sticky_id in dict.fromkeys(sticky_ids):
            worker.submit(sticky_id)


def recogniser(app) -> Recogniser | None:
    """Return the app's recogniser, made on first use; None when ``OCR_ENGINE`` is None."""
    settings = app_settings(app)
    part = settings.recognition
    if not part.ocr_engine:
        return None
    with _MAKING:
        worker = app.extensions.get(_EXTENSION)
        if worker is not None and worker.settings != part:
            # Settings changed since (app.settings.configure): read with the new ones.
            worker.stop(timeout=1.0)
            worker = None
        if worker is None:
            worker = app.extensions[_EXTENSION] = Recogniser(
                app, settings=part, store=settings.scan.pictures_store
            )
    return worker


class Recogniser:
    """Read suggested titles in one daemon thread, from a bounded queue of sticky ids."""

    def __init__(self, app, *, settings: RecognitionSettings, store: Storage):
        self.app = app
        self.settings = settings
        self.engine = settings.ocr_engine
        # Take away what the sticky as printed shows before reading (write_blank).
        self.drop_print = settings.ocr_drop_print
        from scanner.ocr_process import TitleReader

        self.reader = TitleReader(engine=self.engine)
        self.store = store
        # Blank stickies, each drawn for one reading.
        self._blanks = tempfile.TemporaryDirectory(prefix="openspaces-blanks-")
        self.blank_dir = Path(self._blanks.name)
        self.queue: queue.Queue[int] = queue.Queue(maxsize=settings.ocr_queue_size)
        self._queued: set[int] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._full_logged = False
        self._caught_up = False
        # Stickies catch_up queued, by id: the picture that had no suggestion then.
        self._unread_at_start: dict[int, str] = {}
        atexit.register(self.stop, timeout=10.0)

    def submit(self, sticky_id: int) -> bool:
        """Queue a sticky without waiting; return False when it is queued already or the queue is full."""
        with self._lock:
            if sticky_id in self._queued:
                return False
            try:
                self.queue.put_nowait(sticky_id)
            except queue.Full:
                if not self._full_logged:
                    self._full_logged = True
                    log.warning(
                        "title recognition is %d stickies behind; new pictures are not read "
                        "until it catches up (OCR_QUEUE_SIZE)",
                        self.queue.maxsize,
                    )
                return False
            self._queued.add(sticky_id)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="openspaces-recognition", daemon=True
                )
                self._thread.start()
        return True

    def catch_up(self) -> int:
        """Queue the current event's untitled stickies whose picture has no suggestion yet, once
        per process: those a stopped process had still queued. Return how many were queued.

        Every worker of ``openspaces serve`` catches up after a restart. Each starts at a place
        of its own in the list, newest picture first from there, and skips a sticky whose picture
        another one has read meanwhile, so that they share the work rather than repeat it.
        """
        from app.services.events import current_event_id

        if self._caught_up:  # every request asks: answer without the lock once done
            return 0
        with self._lock:
            if self._caught_up:
                return 0
            self._caught_up = True
        unread = db.session.execute(
            select(Sticky.id, Sticky.picture_file)
            .where(
                Sticky.event_id == current_event_id(),
                Sticky.picture_file.is_not(None),
                or_(Sticky.title.is_(None), Sticky.title == ""),
                Sticky.suggested_title.is_(None),
            )
            .order_by(Sticky.picture_dt.desc(), Sticky.id.desc())
            .limit(self.queue.maxsize)
        ).all()
        start = random.randrange(len(unread)) if unread else 0
        queued = 0
        for sticky_id, picture_file in unread[start:] + unread[:start]:
            with self._lock:
                self._unread_at_start[sticky_id] = picture_file
            if self.submit(sticky_id):
                queued += 1
            else:
                with self._lock:
                    self._unread_at_start.pop(sticky_id, None)
        return queued

    def wait(self, timeout: float) -> bool:
        """Wait until every queued sticky has been read, at most `timeout` seconds; return whether it was."""
        deadline = time.monotonic() + timeout
        with self.queue.all_tasks_done:
            while self.queue.unfinished_tasks:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.queue.all_tasks_done.wait(left)
        return True

    def stop(self, timeout: float) -> None:
        """Let the sticky being read finish (at most `timeout` seconds), then end the thread.

        Runs at interpreter exit too: a recogniser stopped in the middle of a model run can
        crash the process on its way out.
        """
        self._stop.set()
        thread = self._thread
        if thread is not None and thread.is_alive():
            thread.join(timeout)
        self.reader.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                sticky_id = self.queue.get(timeout=0.5)
            except queue.Empty:
                continue
            try:
                quiet = wait_for_quiet(self._stop)
                # Until now a new picture of the same sticky joined this turn.
                with self._lock:
                    self._queued.discard(sticky_id)
                if not quiet:
                    return
                with self.app.app_context():
                    try:
                        self._read(sticky_id)
                    finally:
                        db.session.remove()
            except Exception:  # noqa: BLE001 - the worker outlives any one sticky
                log.exception("title recognition of sticky %s failed", sticky_id)
            finally:
                self.queue.task_done()

    def _read(self, sticky_id: int) -> None:
        from app.services.pictures import picture_key, picture_shape

        sticky = db.session.get(Sticky, sticky_id)
        with self._lock:
            unread_at_start = self._unread_at_start.pop(sticky_id, None)
        if sticky is None or sticky.title or not sticky.picture_file:
            return
        picture_file = sticky.picture_file
        if sticky.suggested_title and picture_file == unread_at_start:
            return  # another process has read this picture since catch_up queued it
        key = picture_key(sticky)
        template = sticky.batch.template if sticky.batch else DEFAULT_TEMPLATE
        px_per_mm = (sticky.picture_score or {}).get("px_per_mm")
        shape = picture_shape(sticky)
        cut_mm = _part_read(sticky, shape)
        # A plain note has no print to take away.
        blank = (
            write_blank(sticky=sticky, template=template, folder=self.blank_dir, cut_mm=cut_mm)
            if self.drop_print and not sticky.plain
            else None
        )
        # Reading takes a second: hold no transaction open meanwhile.
        db.session.rollback()
        # A bucket's picture is read from a temporary copy.
        try:
            with local_copy(self.store, key) as path:
                guess = read_picture_title(
                    path=path,
                    template=template,
                    reader=self.reader,
                    px_per_mm=px_per_mm,
                    cut_mm=cut_mm,
                    blank=blank,
                )
        finally:
            if blank is not None:
                blank.unlink(missing_ok=True)
        if guess is None:
            return
        sticky = db.session.get(Sticky, sticky_id)
        if sticky is not None and keep_suggestion(
            sticky=sticky, picture_file=picture_file, text=guess.text, confidence=guess.confidence
        ):
            db.session.commit()
