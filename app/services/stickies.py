"""Stickies: allocating codes for print, claiming, editing, moderation and interest marks."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import (
    BoardStatus,
    Event,
    Interest,
    PrintBatch,
    Sticky,
    StickyKind,
    split_tags,
    utcnow,
)
from app.services import ServiceError
from app.services.capacity import note_interest_change
from app.services.claim_keys import key_matches
from app.services.codes import hash_secret, new_code, new_secret, normalize_code, secret_matches
from app.services.events import next_marker_id
from app.services.following import follow
from app.services.outbox import note_title

MAX_PRINT_COUNT = 10_000
# The marker dictionary holds 1000 ids; ids 0-3 are the corners.
MARKER_ID_LIMIT = 1000
# Prints that start at the same moment count the same free marker ids; the later ones count again.
ALLOCATE_ATTEMPTS = 8
# Ids 0-390 are at least 3 bits apart in every rotation; beyond them a 2-bit misread can turn one
# id into another (benchmarks/MARKERS.md).
SAFE_MARKER_IDS = 391


@dataclass(frozen=True)
class SessionFields:
    title: str
    host: str
    description: str = ""
    tags: str = ""
    contact: str = ""
    links: str = ""


@dataclass(frozen=True)
class PersonFields:
    name: str
    interests: str = ""
    contact: str = ""
    contact_public: bool = False


def get_sticky(code: str) -> Sticky | None:
    """Return the issued sticky for a typed or scanned code, or None for a code never issued."""
    canonical = normalize_code(code)
    if canonical is None:
        return None
    return db.session.scalar(select(Sticky).filter_by(code=canonical))


def allocate_stickies(
    *, event: Event, count: int, kind: StickyKind, template: str, paper: str
) -> PrintBatch:
    """Issue ``count`` new stickies in one print batch, each with a fresh code and marker id.

    The caller commits; roll back and nothing was issued. Call it with no other pending changes:
    when another print took the same marker ids at the same moment, the session is rolled back and
    the ids are counted again, so that concurrent prints all succeed.
    """
    if not 1 <= count <= MAX_PRINT_COUNT:
        raise ServiceError(f"count must be between 1 and {MAX_PRINT_COUNT}, not {count}")
    for attempt in range(1, ALLOCATE_ATTEMPTS + 1):
        try:
            return _allocate(event=event, count=count, kind=kind, template=template, paper=paper)
        except IntegrityError:
            db.session.rollback()
            if attempt == ALLOCATE_ATTEMPTS:
                raise ServiceError(
                    "other prints kept taking the same marker ids; try again in a moment"
                ) from None
    raise AssertionError("unreachable")


def _allocate(*, event: Event, count: int, kind: StickyKind, template: str, paper: str):
    first_marker = next_marker_id(event)
    if first_marker + count > MARKER_ID_LIMIT:
        raise ServiceError(
            f"this event has {MARKER_ID_LIMIT - first_marker} marker ids left; "
            f"print at most that many stickies"
        )
    batch = PrintBatch(event_id=event.id, kind=kind, template=template, paper=paper, count=count)
    db.session.add(batch)
    codes = _unique_codes(count)
    for offset, code in enumerate(codes):
        db.session.add(
            Sticky(
                event_id=event.id,
                code=code,
                kind=kind,
                marker_id=first_marker + offset,
                batch=batch,
                board_status=BoardStatus.NONE,
            )
        )
    db.session.flush()
    return batch


def discard_batch(*, batch: PrintBatch) -> None:
    """Take back a batch that never reached paper (its drawing failed): its codes were never seen."""
    if any(s.is_claimed or s.board_status != BoardStatus.NONE for s in batch.stickies):
        raise ServiceError("this batch is in use on the board; it cannot be taken back")
    for sticky in list(batch.stickies):
        db.session.delete(sticky)
    db.session.delete(batch)
    db.session.flush()


def _unique_codes(count: int) -> list[str]:
    codes: set[str] = set()
    while len(codes) < count:
        fresh = {new_code() for _ in range(count - len(codes))} - codes
        taken = set(db.session.scalars(select(Sticky.code).where(Sticky.code.in_(fresh))))
        codes |= fresh - taken
    return sorted(codes)


HIDDEN_MESSAGE = "this sticky has been hidden by the organizers; it cannot be changed now"


class AlreadyClaimed(ServiceError):
    """Someone else claimed the sticky first."""


class WrongClaimKey(ServiceError):
    """The claim came without the key printed on the sticky, or with another one."""


def claim_sticky(
    *,
    sticky: Sticky,
    fields: SessionFields | PersonFields,
    key: str | None = None,
    by_organizer: bool = False,
) -> str:
    """Claim a blank sticky and return its new edit secret (shown once, then only its hash is kept).

    A claim needs the sticky's claim key (app.services.claim_keys), printed on the sticky only, or
    an organizer. The claim is one conditional UPDATE that only a blank sticky matches, so when many
    phones claim the same sticky at once exactly one wins; the others get :class:`AlreadyClaimed`.
    """
    if sticky.is_claimed:
        raise AlreadyClaimed("this sticky has been claimed already")
    if not by_organizer and not key_matches(sticky=sticky, key=key):
        raise WrongClaimKey(
            "this is not the note's claim code, or it has been used or has run out"
            if sticky.plain
            else "this is not the key printed on this sticky"
        )
    values = _field_values(sticky, fields)
    secret = new_secret()
    # A plain note's one-time claim code is spent with the claim.
    values.update(edit_secret_hash=hash_secret(secret), claimed_dt=utcnow(), claim_code_hash=None)
    claimed = db.session.execute(
        update(Sticky)
        .where(Sticky.id == sticky.id, Sticky.claimed_dt.is_(None))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        raise AlreadyClaimed("this sticky has been claimed already")
    db.session.expire(sticky)
    if values["title"]:
        note_title(sticky=sticky)
    return secret


def edit_sticky(
    *, sticky: Sticky, fields: SessionFields | PersonFields, by_organizer: bool = False
) -> None:
    """Change a claimed sticky's text. A hidden sticky is frozen: only organizers may change it."""
    if not sticky.is_claimed:
        raise ServiceError("a blank sticky is claimed, not edited")
    if sticky.hidden and not by_organizer:
        raise ServiceError(HIDDEN_MESSAGE)
    values = _field_values(sticky, fields)
    retitled = values["title"] != (sticky.title or "")
    for attr, value in values.items():
        setattr(sticky, attr, value)
    if retitled:
        note_title(sticky=sticky)


def _field_values(sticky: Sticky, fields: SessionFields | PersonFields) -> dict[str, object]:
    """Return the columns that a claim or an edit writes, from the fields a person typed."""
    if sticky.kind == StickyKind.SESSION:
        if not isinstance(fields, SessionFields):
            raise ServiceError("a session sticky takes session fields")
        return {
            "title": fields.title.strip(),
            "host": fields.host.strip(),
            "description": fields.description.strip(),
            "tags": ", ".join(split_tags(fields.tags)),
            "contact": fields.contact.strip(),
            "links": "\n".join(line.strip() for line in fields.links.splitlines() if line.strip()),
        }
    if not isinstance(fields, PersonFields):
        raise ServiceError("a person sticky takes person fields")
    return {
        "title": fields.name.strip(),
        "tags": ", ".join(split_tags(fields.interests)),
        "contact": fields.contact.strip(),
        "contact_public": fields.contact_public,
    }


def can_edit(*, sticky: Sticky, secret: str | None, is_organizer: bool) -> bool:
    return is_organizer or secret_matches(secret, sticky.edit_secret_hash)


def release_sticky(*, sticky: Sticky) -> None:
    """Make a claimed sticky blank again, so that someone else can claim it."""
    for attr in ("title", "host", "description", "tags", "contact", "links", "edit_secret_hash"):
        setattr(sticky, attr, None)
    sticky.contact_public = False
    sticky.claimed_dt = None
    sticky.hidden = False
    sticky.interests.clear()


def set_hidden(*, sticky: Sticky, hidden: bool) -> None:
    sticky.hidden = hidden


def toggle_interest(*, sticky: Sticky, browser_id: str) -> bool:
    """Toggle this browser's interest in a session; return whether it is interested now."""
    return set_interest(sticky=sticky, browser_id=browser_id, interested=None)


def set_interest(*, sticky: Sticky, browser_id: str, interested: bool | None) -> bool:
    """Mark (True) or unmark (False) this browser's interest in a session, or toggle it (None);
    return whether it is interested now.

    Marking twice is marking once: a tap that a phone kept while offline may arrive again.
    """
    if sticky.kind != StickyKind.SESSION or not sticky.is_claimed:
        raise ServiceError("interest can only be marked on a claimed session")
    if sticky.hidden:
        raise ServiceError(HIDDEN_MESSAGE)
    mark = db.session.scalar(select(Interest).filter_by(sticky_id=sticky.id, browser_id=browser_id))
    if interested is None:
        interested = mark is None
    if interested == (mark is not None):
        return interested
    before = interest_count(sticky)
    if mark:
        db.session.delete(mark)
        db.session.flush()
        note_interest_change(sticky=sticky, before=before, after=before - 1)
        return False
    db.session.add(Interest(sticky_id=sticky.id, browser_id=browser_id))
    follow(browser_id=browser_id)
    db.session.flush()
    note_interest_change(sticky=sticky, before=before, after=before + 1)
    return True


def interest_count(sticky: Sticky) -> int:
    return db.session.scalar(select(func.count(Interest.id)).filter_by(sticky_id=sticky.id)) or 0


def is_interested(sticky: Sticky, browser_id: str | None) -> bool:
    if not browser_id:
        return False
    query = select(Interest.id).filter_by(sticky_id=sticky.id, browser_id=browser_id)
    return db.session.scalar(query) is not None


@dataclass(frozen=True)
class StickyCounts:
    """How many stickies an event has issued, by kind, and how many of them are claimed."""

    by_kind: dict[str, int]
    claimed: int


def sticky_counts(event: Event) -> StickyCounts:
    """Count the event's issued stickies by kind, and the claimed ones."""
    by_kind = dict(
        db.session.execute(
            select(Sticky.kind, func.count(Sticky.id))
            .where(Sticky.event_id == event.id)
            .group_by(Sticky.kind)
        ).all()
    )
    claimed = db.session.scalar(
        select(func.count(Sticky.id)).where(
            Sticky.event_id == event.id, Sticky.claimed_dt.is_not(None)
        )
    )
    return StickyCounts(by_kind=by_kind, claimed=claimed)


STICKY_FILTERS = ("claimed", "blank", "hidden")


@dataclass(frozen=True)
class StickyPage:
    """One page of a sticky list: its rows, which page it is, of how many, and the total found."""

    rows: list[Sticky]
    page: int
    pages: int
    total: int
    per_page: int

    @property
    def first(self) -> int:
        """Return the position of the page's first row in the whole list, from 1."""
        return (self.page - 1) * self.per_page + 1


def search_stickies(
    *,
    event: Event,
    text: str = "",
    kind: str | None = None,
    status: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> StickyPage:
    """Return a page of the event's stickies, newest first, that match every filter given.

    ``text`` is found in the code, title, host or tags (any case); ``kind`` is session or person;
    ``status`` is one of STICKY_FILTERS. Unknown kinds and statuses filter nothing; a page past
    the last one gives the last.
    """
    query = select(Sticky).filter_by(event_id=event.id)
    if kind in (StickyKind.SESSION, StickyKind.PERSON):
        query = query.filter_by(kind=kind)
    if text:
        like = f"%{text.lower()}%"
        query = query.where(
            or_(
                func.lower(Sticky.code).like(like),
                func.lower(Sticky.title).like(like),
                func.lower(Sticky.host).like(like),
                func.lower(Sticky.tags).like(like),
            )
        )
    if status == "claimed":
        query = query.where(Sticky.claimed_dt.is_not(None))
    elif status == "blank":
        query = query.where(Sticky.claimed_dt.is_(None))
    elif status == "hidden":
        query = query.filter_by(hidden=True)
    total = db.session.scalar(select(func.count()).select_from(query.subquery()))
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    rows = db.session.scalars(
        query.order_by(Sticky.id.desc()).offset((page - 1) * per_page).limit(per_page)
    )
    return StickyPage(rows=list(rows), page=page, pages=pages, total=total, per_page=per_page)


def visible_people(event: Event) -> list[Sticky]:
    query = (
        select(Sticky)
        .filter_by(event_id=event.id, kind=StickyKind.PERSON, hidden=False)
        .where(Sticky.claimed_dt.is_not(None))
        .order_by(func.lower(Sticky.title))
    )
    return list(db.session.scalars(query))


def search_people(event: Event, query: str) -> list[Sticky]:
    """Return people whose interests or name contain every word of the query (case-insensitive)."""
    words = [w.casefold() for w in query.split()]
    people = visible_people(event)
    if not words:
        return people
    return [
        p for p in people if all(w in f"{p.title or ''} {p.tags or ''}".casefold() for w in words)
    ]


def people_matching(sticky: Sticky) -> list[Sticky]:
    """Return people whose interests share a tag with a session, most shared tags first.

    The session's host is not among them: they know already.
    """
    tags = {t.casefold() for t in sticky.tag_list}
    if not tags:
        return []
    host = " ".join((sticky.host or "").split()).casefold()
    scored = []
    for person in visible_people(sticky.event):
        if host and " ".join((person.title or "").split()).casefold() == host:
            continue
        shared = tags & {t.casefold() for t in person.tag_list}
        if shared:
            scored.append((-len(shared), (person.title or "").casefold(), person))
    return [p for *_, p in sorted(scored, key=lambda s: s[:2])]


def sessions_hosted_by(person: Sticky) -> list[Sticky]:
    """Return the visible sessions whose host is this person, by name (case-insensitive)."""
    if not person.title:
        return []
    query = (
        select(Sticky)
        .filter_by(event_id=person.event_id, kind=StickyKind.SESSION, hidden=False)
        .where(func.lower(Sticky.host) == person.title.strip().lower())
        .order_by(Sticky.id)
    )
    return list(db.session.scalars(query))
