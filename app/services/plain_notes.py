"""Plain notes: sticky notes without our print, known by the look of their ink (docs/plain-notes.md).

A plain note is a ``Sticky`` with ``plain`` set and no marker, so that every board rule, page, feed,
interest and picture works for it as for a printed one. A scan's notes (``scanner.SeenNote``, or
the ``notes`` of a camera's JSON) are told apart here, and only here, by their fingerprint
(``scanner.notes.fingerprint_similarity``) and by where they were:

- A note in the cell (or off the grid) where exactly one known note that looks like it sits is
  that note.
- Any other note that looks like exactly one known note, which looks like no other note of the
  scan, is that note moved: its page, its interest marks and its history go with it.
- A note that looks like no known note, or like one that another note of the scan already is (a
  copy in another cell), is a new note: a fresh code, and a one-time claim code for the wall
  screen. A blank note (no ink) is left alone.
- Whatever cannot be told (two known notes for one seen note, or one known note for two seen ones
  with neither in its cell) is held for an organizer as a ``NoteCheck``: the board does not change
  for it, and the known notes it looks like are not counted as missed meanwhile.
- A note that looks like nothing, seen where a known note sits that the scan did not see, or while
  a note on the wall went unseen, is most likely that note seen badly: it waits for a second look
  (a waiting ``NoteCheck``) before it becomes a new note.

The scan then places each note with ``board.set_place`` and counts misses with ``board.count_miss``
(app.services.scans), as for printed stickies: first come, first served between both kinds.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections import Counter
from dataclasses import dataclass, field, replace

from sqlalchemy import select

from app import effects
from app.effects import Effect
from app.extensions import db
from app.models import (
    BoardStatus,
    Event,
    NoteCheck,
    PlacementSource,
    Scan,
    Sticky,
    StickyKind,
    utcnow,
)
from app.services import ServiceError
from app.services.board import OFF_GRID, Place, set_place
from app.services.codes import hash_secret, keyed_code, new_code, normalize_code, secret_matches
from app.services.images import encode_image
from app.services.layout import Layout
from app.services.observations import VIEW_PREFIX, InvalidScan, NoteObservation
from app.services.storage import Storage, Stored

# Below this share of ink a note is blank: nothing written identifies it.
BLANK_INK = 0.003
# The wall screen shows a new note's claim code this long; an organizer can make a new one.
CLAIM_CODE_MINUTES = 10
CLAIM_CODE_LENGTH = 6
# A sighting waiting for a second look is forgotten this long after it was seen: a look seen
# again later is seen anew.
SECOND_LOOK_S = 120
# The place of a note off the grid, beside (room id, slot id) for a cell.
_OFF = "off"


@dataclass
class NoteOutcome:
    """What a scan's notes are: each with its place for the board rules, and what was held."""

    # (sticky, room id, slot id) as scans.apply_scan places its stickies; None, None off the grid.
    seen: list[tuple[Sticky, int | None, int | None]] = field(default_factory=list)
    # The note each view key (``note:<index>``) shows, for its picture.
    by_view: dict[str, Sticky] = field(default_factory=dict)
    # The notes made on this scan's first sight of them.
    new: list[Sticky] = field(default_factory=list)
    # The known notes a held note looks like: not counted as missed while it is checked.
    held: set[int] = field(default_factory=set)
    # The checks this scan opened or saw again, by view key.
    checks: dict[str, NoteCheck] = field(default_factory=dict)


def _similarity():
    # scanner loads OpenCV: only a scan with notes pays for it.
    from scanner.notes import SAME_NOTE_SIMILARITY, fingerprint_similarity

    return fingerprint_similarity, SAME_NOTE_SIMILARITY


def _cell(note: NoteObservation, layout: Layout):
    if note.room is None:
        return _OFF
    if note.room not in layout.rooms:
        raise InvalidScan(f"unknown room {note.room!r}")
    if note.slot not in layout.slots:
        raise InvalidScan(f"unknown slot {note.slot!r}")
    return (layout.rooms[note.room], layout.slots[note.slot])


def _place_of(sticky: Sticky):
    if sticky.on_grid:
        return (sticky.room_id, sticky.slot_id)
    return _OFF if sticky.board_status == BoardStatus.OFF_GRID else None


def looks_for_notes(event: Event) -> bool:
    """Return whether the scanner looks for plain notes on the event's board.

    The event file's ``plain_notes`` decides. Unset, a board of the kit alone (no printed sticky
    issued yet) or one that has plain notes already is looked at for them, and a board of printed
    stickies alone is not: the search costs about as much again as the rest of a scan.
    """
    if event.plain_notes is not None:
        return event.plain_notes
    kinds = set(
        db.session.scalars(select(Sticky.plain).where(Sticky.event_id == event.id).distinct())
    )
    return kinds != {False}


def plain_notes(event: Event) -> list[Sticky]:
    """Return every plain note of the event, on the wall or not, in the order they were first seen."""
    query = select(Sticky).filter_by(event_id=event.id, plain=True).order_by(Sticky.id)
    return list(db.session.scalars(query))


def identify_notes(
    *,
    event: Event,
    notes: tuple[NoteObservation, ...],
    scan: Scan,
    layout: Layout,
    now: dt.datetime,
) -> NoteOutcome:
    """Tell which note each of a scan's notes is, making new ones on first sight.

    Return the notes with their cells for the scan to place, and hold what cannot be told
    (module docstring). Raise InvalidScan for a room or slot the event lacks.
    """
    outcome = NoteOutcome()
    inked = [n for n in notes if n.ink >= BLANK_INK]
    cells = [_cell(n, layout) for n in inked]
    if not inked:
        return outcome
    known = plain_notes(event)
    found, matches, left = _match(inked, cells, known)
    seen_ids = {k.id for k in found.values()}
    waiting = {(c.room_id, c.slot_id): c for c in _open_checks(event, waiting=True)}
    missing = _missing(known, seen=seen_ids)
    for i, note in enumerate(inked):
        ids = _ids(cells[i])
        if i in found:
            sticky = found[i]
        elif left[i]:
            outcome.held |= {k.id for k in matches[i]}
            outcome.checks[note.view_key] = _hold(
                event=event, note=note, cell=cells[i], candidates=left[i], scan=scan, now=now
            )
            continue
        else:
            sticky = _first_sight(
                event=event,
                note=note,
                cell=cells[i],
                sitting=_sitting(known, cells[i], seen=seen_ids),
                missing=missing,
                waiting=waiting,
                outcome=outcome,
                scan=scan,
                now=now,
            )
            if sticky is None:
                continue
        _seen(outcome, sticky, note, ids)
        # A sighting that waited in this cell is told now: the note seen there, or a new one.
        if ids in waiting:
            waiting.pop(ids).resolved_dt = now
    db.session.flush()
    return outcome


def _first_sight(
    *,
    event: Event,
    note: NoteObservation,
    cell,
    sitting: list[Sticky],
    missing: bool,
    waiting: dict,
    outcome: NoteOutcome,
    scan: Scan,
    now: dt.datetime,
) -> Sticky | None:
    """Make a new note of a note that looks like no known one, or let it wait for a second look.

    It waits when a note sits in its place, or a note on the wall went unseen: most likely that
    one, seen badly (half covered, curled, cut out of the photo badly). The note sitting there is
    not missed meanwhile. Return the new note, or None while it waits.
    """
    ids = _ids(cell)
    if (sitting or missing) and not _second_look(waiting.get(ids), note, now=now):
        outcome.held |= {k.id for k in sitting}
        waiting[ids] = _wait(event=event, note=note, cell=cell, waiting=waiting, scan=scan, now=now)
        return None
    sticky = _new_note(event=event, note=note, now=now)
    outcome.new.append(sticky)
    return sticky


def _missing(known: list[Sticky], *, seen: set[int]) -> bool:
    """Tell whether a note on the wall went unseen by the scan: it may be one seen badly."""
    return any(k.board_status != BoardStatus.NONE and k.id not in seen for k in known)


def _sitting(known: list[Sticky], cell, *, seen: set[int]) -> list[Sticky]:
    """Return the known notes in this place that the scan has not seen elsewhere."""
    return [k for k in known if k.id not in seen and _place_of(k) == cell]


def _look_alikes(note: NoteObservation, known: list[Sticky]) -> list[Sticky]:
    """Return the known notes whose ink looks like the seen note's."""
    similarity, same = _similarity()
    return [
        k for k in known if k.fingerprint and similarity(note.fingerprint, k.fingerprint) >= same
    ]


def _seen(outcome: NoteOutcome, sticky: Sticky, note: NoteObservation, ids) -> None:
    """Note down a note told apart: its newest look, and its place for the board's rules."""
    sticky.fingerprint, sticky.color = note.fingerprint, note.color or sticky.color
    outcome.seen.append((sticky, *ids))
    outcome.by_view[note.view_key] = sticky


def _second_look(check: NoteCheck | None, note: NoteObservation, *, now: dt.datetime) -> bool:
    """Tell whether a sighting waiting in the note's cell, a little while ago, looked like it."""
    if check is None or (now - check.seen_dt).total_seconds() > SECOND_LOOK_S:
        return False
    similarity, same = _similarity()
    return similarity(check.fingerprint, note.fingerprint) >= same


def _ids(cell) -> tuple[int | None, int | None]:
    """Return a place's room and slot ids; None, None off the grid."""
    return (None, None) if cell == _OFF else cell


def _wait(
    *,
    event: Event,
    note: NoteObservation,
    cell,
    waiting: dict,
    scan: Scan,
    now: dt.datetime,
) -> NoteCheck:
    """Keep a sighting that waits for a second look in its cell: the newest look only."""
    check = waiting.get(_ids(cell))
    if check is None:
        room_id, slot_id = _ids(cell)
        check = NoteCheck(
            event_id=event.id, room_id=room_id, slot_id=slot_id, waiting=True, created_dt=now
        )
        db.session.add(check)
    check.fingerprint, check.color, check.candidates = note.fingerprint, note.color, []
    check.scan_id, check.seen_dt = scan.id, now
    return check


def _match(
    notes: list[NoteObservation], cells: list, known: list[Sticky]
) -> tuple[dict[int, Sticky], dict[int, list[Sticky]], dict[int, list[Sticky]]]:
    """Return the seen notes told apart (by index), the look-alikes of those not told by their
    place, and what each one not told at all may still be.

    In its own place first (``_match_in_place``), then a move: the one known look-alike left,
    which no other seen note looks like. Only the notes not told by their place are compared
    with every known note: a comparison takes milliseconds, and a wall that did not change costs
    one a note.
    """
    in_place = [
        _look_alikes(note, _same_paper(note, _sitting(known, cells[i], seen=set())))
        for i, note in enumerate(notes)
    ]
    found = _match_in_place(in_place)
    matches = {i: _look_alikes(note, known) for i, note in enumerate(notes) if i not in found}
    left = _moves(found, matches)
    return found, matches, {i: ks for i, ks in left.items() if i not in found}


def _same_paper(note: NoteObservation, known: list[Sticky]) -> list[Sticky]:
    """Return the known notes of the seen note's paper colour (all when a colour is unknown).

    Only to spare comparisons in a crowded place, such as the people area: a note whose colour
    was read otherwise is still compared with every known note, after.
    """
    return [k for k in known if note.color is None or k.color in (None, note.color)]


def _moves(found: dict[int, Sticky], matches: dict[int, list[Sticky]]) -> dict[int, list[Sticky]]:
    """Tell the moved notes apart, into ``found``: each note not told by its place that looks like
    one known note not told already, which no other such note looks like. Return what each note
    not told by its place may be."""
    taken = {k.id for k in found.values()}
    left = {i: [k for k in ks if k.id not in taken] for i, ks in matches.items()}
    wanted = Counter(k.id for ks in left.values() for k in ks)
    for i, candidates in left.items():
        if len(candidates) == 1 and wanted[candidates[0].id] == 1:
            found[i] = candidates[0]
    return left


def _match_in_place(in_place: list[list[Sticky]]) -> dict[int, Sticky]:
    """Return the seen notes that are the one known look-alike in their own place, by index.

    A known note that two seen notes in its place look like is neither's here.
    """
    here = {i: there[0] for i, there in enumerate(in_place) if len(there) == 1}
    claimed = Counter(k.id for k in here.values())
    return {i: k for i, k in here.items() if claimed[k.id] == 1}


def _unique_code() -> str:
    while True:
        code = new_code()
        if db.session.scalar(select(Sticky.id).filter_by(code=code)) is None:
            return code


def _new_note(*, event: Event, note: NoteObservation, now: dt.datetime) -> Sticky:
    """Make a plain note on its first sight: a session sticky with a code and no marker."""
    sticky = Sticky(
        event_id=event.id,
        code=_unique_code(),
        kind=StickyKind.SESSION,
        marker_id=None,
        plain=True,
        fingerprint=note.fingerprint,
        color=note.color,
        first_seen_dt=now,
        created_dt=now,
        board_status=BoardStatus.NONE,
    )
    db.session.add(sticky)
    db.session.flush()
    issue_claim_code(sticky=sticky, now=now)
    return sticky


def _hold(
    *,
    event: Event,
    note: NoteObservation,
    cell,
    candidates: list[Sticky],
    scan: Scan,
    now: dt.datetime,
) -> NoteCheck:
    """Open a check of a note that cannot be told, or find the open one of the same note."""
    room_id, slot_id = (None, None) if cell == _OFF else cell
    similarity, same = _similarity()
    ids = sorted(k.id for k in candidates)
    for check in open_checks(event):
        if (check.room_id, check.slot_id) == (room_id, slot_id) and (
            similarity(check.fingerprint, note.fingerprint) >= same
        ):
            check.scan_id, check.seen_dt, check.candidates = scan.id, now, ids
            return check
    check = NoteCheck(
        event_id=event.id,
        scan_id=scan.id,
        fingerprint=note.fingerprint,
        color=note.color,
        room_id=room_id,
        slot_id=slot_id,
        candidates=ids,
        created_dt=now,
        seen_dt=now,
    )
    db.session.add(check)
    return check


def open_checks(event: Event) -> list[NoteCheck]:
    """Return the notes held for an organizer to tell apart, oldest first."""
    return _open_checks(event, waiting=False)


def _open_checks(event: Event, *, waiting: bool) -> list[NoteCheck]:
    query = (
        select(NoteCheck)
        .filter_by(event_id=event.id, waiting=waiting)
        .where(NoteCheck.resolved_dt.is_(None))
        .order_by(NoteCheck.id)
    )
    return list(db.session.scalars(query))


def find_check(*, event: Event, check_id: int) -> NoteCheck | None:
    """Return the event's check with this id, settled or not; None when there is none."""
    check = db.session.get(NoteCheck, check_id)
    return check if check is not None and check.event_id == event.id else None


def check_candidates(check: NoteCheck) -> list[Sticky]:
    """Return the known notes a held note looks like."""
    if not check.candidates:
        return []
    query = select(Sticky).where(Sticky.id.in_(check.candidates)).order_by(Sticky.id)
    return list(db.session.scalars(query))


def resolve_check(
    *, check: NoteCheck, same_as: Sticky | None, now: dt.datetime | None = None
) -> Sticky:
    """Settle a held note: it is ``same_as`` (one of its candidates), or a new note (None).

    The note takes the place where it was seen, by the board's rules, as an organizer's move.
    Its place then tells it apart in the scans that follow.
    """
    now = now or utcnow()
    if check.resolved_dt is not None:
        raise ServiceError("this note has been settled already")
    if check.waiting:
        raise ServiceError("this note waits for a second look of the camera, not for an answer")
    if same_as is not None and same_as.id not in check.candidates:
        raise ServiceError(f"the note is not one of those it looks like ({same_as.code})")
    event = db.session.get(Event, check.event_id)
    note = NoteObservation(index=0, fingerprint=check.fingerprint, ink=1.0, color=check.color)
    sticky = same_as or _new_note(event=event, note=note, now=now)
    if same_as is None and check.picture_file:
        # A new note starts with the picture the organizer told it by; any view beats it.
        sticky.picture_file, sticky.picture_dt = check.picture_file, now
        check.picture_file = None
        effects.after_commit(Effect.NEW_PICTURE, sticky.id)
    sticky.fingerprint = check.fingerprint
    place = OFF_GRID if check.room_id is None else Place.cell(check.room_id, check.slot_id)
    set_place(sticky=sticky, place=place, source=PlacementSource.ORGANIZER, now=now)
    check.resolved_dt, check.sticky_id = now, sticky.id
    db.session.flush()
    return sticky


def sort_note_views(
    *,
    views: list,
    posted: frozenset,
    notes: dict[str, Sticky],
    checks: dict[str, NoteCheck],
    store: Storage | None = None,
) -> tuple[list, frozenset]:
    """Return a scan's views with each note's view (``note:<index>``) under its note's code, for
    the pictures' best-view rule, and the codes of the posted views so named.

    A held note's view becomes its check's picture in ``store`` (when pictures are kept); views
    of notes that are no note (blank ones) are left out.
    """
    named = []
    for view in views:
        if not view.code.startswith(VIEW_PREFIX):
            named.append(view)
        elif view.code in notes:
            named.append(replace(view, code=notes[view.code].code))
        elif view.code in checks and store is not None:
            _keep_check_picture(checks[view.code], view, store)
    codes = {key: sticky.code for key, sticky in notes.items()}
    named_posted = frozenset(
        codes.get(code, code)
        for code in posted
        if not code.startswith(VIEW_PREFIX) or code in codes
    )
    return named, named_posted


def _keep_check_picture(check: NoteCheck, view, store: Storage) -> None:
    """Keep a held note's view as its check's picture, for the organizer to compare."""
    import cv2  # slow import, kept off the web app's start
    import numpy as np

    image = view.image
    if image is None:
        image = cv2.imdecode(np.frombuffer(view.jpeg, np.uint8), cv2.IMREAD_COLOR)
        if image is None:
            return
    data = encode_image(image, quality=85, what="the view of a held note")
    name = f"check-{check.id}-{secrets.token_hex(4)}.jpg"
    key = f"{check.event_id}/{name}"
    store.put(key, data)
    effects.after_rollback(Effect.DELETE_FILE, Stored(store, key))
    if check.picture_file:
        effects.after_commit(
            Effect.DELETE_FILE, Stored(store, f"{check.event_id}/{check.picture_file}")
        )
    check.picture_file = name


# -- the one-time claim code the wall screen shows beside a new note ---------------------------------


def _claim_code(sticky: Sticky) -> str:
    """Return the claim code made for the note at ``claim_code_dt``: the wall screen makes it
    again from the event's secret, so that only its hash need be kept."""
    made = sticky.claim_code_dt.astimezone(dt.UTC).isoformat()
    return keyed_code(
        sticky.event.claim_secret, f"note-claim:{sticky.code}:{made}", length=CLAIM_CODE_LENGTH
    )


def issue_claim_code(*, sticky: Sticky, now: dt.datetime | None = None) -> str:
    """Make a new one-time claim code for a plain note; return it. An older one stops working."""
    if not sticky.plain:
        raise ServiceError("a printed sticky is claimed with the key printed on it")
    if sticky.is_claimed:
        raise ServiceError("this note has been claimed already")
    made = (now or utcnow()).replace(microsecond=0)
    # The code is made from its second: a second code in the same second must differ.
    if made == sticky.claim_code_dt:
        made += dt.timedelta(seconds=1)
    sticky.claim_code_dt = made
    sticky.claim_code_expires_dt = sticky.claim_code_dt + dt.timedelta(minutes=CLAIM_CODE_MINUTES)
    code = _claim_code(sticky)
    sticky.claim_code_hash = hash_secret(code)
    return code


def claim_code_matches(*, sticky: Sticky, code: str | None, now: dt.datetime | None = None) -> bool:
    """Tell whether ``code`` (typed, any case) is the note's live claim code."""
    typed = normalize_code(code or "", length=CLAIM_CODE_LENGTH)
    if typed is None or not sticky.plain or sticky.claim_code_hash is None:
        return False
    if (now or utcnow()) >= sticky.claim_code_expires_dt:
        return False
    return secret_matches(typed, sticky.claim_code_hash)


def wall_stamp(*, event: Event, now: dt.datetime | None = None) -> str:
    """Return a short stamp of the claim codes the wall screen shows now: it changes when one
    comes or runs out, so that the screen's copy is renewed then."""
    shown = [
        f"{c.sticky.code}:{c.expires_dt:%H%M%S}" for c in wall_claim_codes(event=event, now=now)
    ]
    return hashlib.blake2b(" ".join(shown).encode(), digest_size=4).hexdigest()


@dataclass(frozen=True)
class ShownCode:
    """A claim code the wall screen shows beside its note, until ``expires_dt``."""

    sticky: Sticky
    code: str
    expires_dt: dt.datetime


def wall_claim_codes(*, event: Event, now: dt.datetime | None = None) -> list[ShownCode]:
    """Return the live claim codes of the event's unclaimed notes, newest first, for the wall screen."""
    now = now or utcnow()
    query = (
        select(Sticky)
        .filter_by(event_id=event.id, plain=True, hidden=False)
        .where(
            Sticky.claim_code_hash.is_not(None),
            Sticky.claim_code_expires_dt > now,
            Sticky.claimed_dt.is_(None),
        )
        .order_by(Sticky.claim_code_dt.desc(), Sticky.id.desc())
    )
    shown = []
    for sticky in db.session.scalars(query):
        code = _claim_code(sticky)
        # A code made under another secret (the event's was changed) would not be the one kept.
        if hash_secret(code) == sticky.claim_code_hash:
            shown.append(ShownCode(sticky, code, sticky.claim_code_expires_dt))
    return shown
