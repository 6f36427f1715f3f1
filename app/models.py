"""The data model: events, rooms, slots, stickies, placements, interest marks, scans, tokens.

All ``*_dt`` columns hold timezone-aware UTC datetimes. Local times exist only at the edges: the event
file, the pages and the exports convert with the event's timezone.
"""

from __future__ import annotations

import datetime as dt
import enum
import secrets
from zoneinfo import ZoneInfo

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    inspect,
    select,
)
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column, relationship

from app.extensions import db

SLOT_KEY_FORMAT = "%Y-%m-%dT%H:%M"


def utcnow() -> dt.datetime:
    """Return the current time as an aware UTC datetime."""
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator):
    """Store aware UTC datetimes the same way on SQLite and PostgreSQL (naive UTC in the column)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC)


class StickyKind(enum.StrEnum):
    SESSION = "session"
    PERSON = "person"


class BoardStatus(enum.StrEnum):
    """Where a sticky is on the wall, as far as the board knows."""

    NONE = "none"  # never seen on the wall, or removed
    PLACED = "placed"  # in a cell, and first there
    CONFLICT = "conflict"  # in a cell that another sticky held first
    OFF_GRID = "off_grid"  # on the wall, outside the grid (people area)


class PlacementSource(enum.StrEnum):
    CAMERA = "camera"
    ORGANIZER = "organizer"
    DEMO = "demo"


class Event(db.Model):
    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))
    base_url: Mapped[str] = mapped_column(String(300))
    # The demo's base URL is nobody's choice: it follows the address the board is served on
    # (app.services.demo.follow_served_address) until an organizer sets one.
    base_url_auto: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    created_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The instance serves the event that was loaded last.
    loaded_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Counts the changes of the rooms, the slots and the time zone (see `count_layout_changes`):
    # what a scan has to read again to know the names it may use.
    layout_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Counts every change a live page shows (see `count_board_changes`): the live stamp
    # (app.live.stamp) reads it instead of the whole board.
    board_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Whether the scanner looks for plain notes on the board (the event file's `plain_notes`);
    # None: app.services.plain_notes.looks_for_notes decides from the stickies issued.
    plain_notes: Mapped[bool | None] = mapped_column(Boolean)
    # Makes each sticky's claim key from its code (app.services.claim_keys): printed on the sticky
    # and nowhere else, so the same key prints again on a reprint.
    claim_secret: Mapped[str] = mapped_column(String(64), default=lambda: secrets.token_urlsafe(32))

    rooms: Mapped[list[Room]] = relationship(
        back_populates="event", order_by="Room.position", cascade="all, delete-orphan"
    )
    slots: Mapped[list[Slot]] = relationship(
        back_populates="event", order_by="Slot.start_dt", cascade="all, delete-orphan"
    )

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local(self, moment: dt.datetime) -> dt.datetime:
        """Return ``moment`` (aware) in the event's timezone."""
        return moment.astimezone(self.tz)

    def __repr__(self) -> str:
        return f"<Event {self.slug!r}>"


class Room(db.Model):
    __tablename__ = "rooms"
    __table_args__ = (
        UniqueConstraint("event_id", "name"),
        UniqueConstraint("event_id", "marker_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    capacity: Mapped[int | None] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer, default=0)
    marker_id: Mapped[int] = mapped_column(Integer)

    event: Mapped[Event] = relationship(back_populates="rooms")

    def __repr__(self) -> str:
        return f"<Room {self.name!r} #{self.position}>"


class Slot(db.Model):
    __tablename__ = "slots"
    __table_args__ = (
        UniqueConstraint("event_id", "start_dt"),
        UniqueConstraint("event_id", "marker_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    start_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    end_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    marker_id: Mapped[int] = mapped_column(Integer)

    event: Mapped[Event] = relationship(back_populates="slots")

    @property
    def local_start(self) -> dt.datetime:
        return self.event.local(self.start_dt)

    @property
    def local_end(self) -> dt.datetime:
        return self.event.local(self.end_dt)

    @property
    def key(self) -> str:
        """Name the slot by its local start, ``YYYY-MM-DDTHH:MM``, as every JSON contract does."""
        return self.local_start.strftime(SLOT_KEY_FORMAT)

    @property
    def label(self) -> str:
        return f"{self.local_start:%H:%M}–{self.local_end:%H:%M}"

    def __repr__(self) -> str:
        return f"<Slot {self.start_dt:%Y-%m-%d %H:%M}Z>"


class PrintBatch(db.Model):
    __tablename__ = "print_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    template: Mapped[str] = mapped_column(String(32))
    paper: Mapped[str] = mapped_column(String(16))
    count: Mapped[int] = mapped_column(Integer)
    created_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    stickies: Mapped[list[Sticky]] = relationship(back_populates="batch", order_by="Sticky.id")

    def __repr__(self) -> str:
        return f"<PrintBatch {self.id} {self.count}x{self.kind} {self.template}>"


class Sticky(db.Model):
    """A sticky on the wall. Session stickies keep the title in ``title``; person stickies keep the name
    there and their interests in ``tags``.

    A printed sticky carries its code and marker; a plain note (``plain``: paper without our print)
    has no marker and is known by the look of its ink (``fingerprint``, app.services.plain_notes).
    """

    __tablename__ = "stickies"
    __table_args__ = (UniqueConstraint("event_id", "marker_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    kind: Mapped[StickyKind] = mapped_column(String(16))
    # None for a plain note: the scanner finds it by its look, not by a marker.
    marker_id: Mapped[int | None] = mapped_column(Integer)
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("print_batches.id"), index=True)
    created_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    # Claimed fields
    claimed_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    title: Mapped[str | None] = mapped_column(String(120))
    host: Mapped[str | None] = mapped_column(String(80))
    description: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[str | None] = mapped_column(String(300))
    contact: Mapped[str | None] = mapped_column(String(200))
    contact_public: Mapped[bool] = mapped_column(Boolean, default=False)
    links: Mapped[str | None] = mapped_column(String(500))
    edit_secret_hash: Mapped[str | None] = mapped_column(String(64))
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)

    # Where it is on the wall now; the history is in ``placements``.
    board_status: Mapped[BoardStatus] = mapped_column(String(16), default=BoardStatus.NONE)
    room_id: Mapped[int | None] = mapped_column(ForeignKey("rooms.id"), index=True)
    slot_id: Mapped[int | None] = mapped_column(ForeignKey("slots.id"), index=True)
    placed_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Scans in a row in which the sticky's cell was visible and the sticky was not seen.
    missed_scans: Mapped[int] = mapped_column(Integer, default=0)
    # When the first of those scans was captured: a sticky gone long enough comes off sooner.
    missed_since_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    # The best picture of the sticky so far, cut from a scan (app/services/pictures.py): its file in
    # the instance's picture folder, its score (scanner.ViewScore) and size on disk.
    picture_file: Mapped[str | None] = mapped_column(String(100))
    picture_quality: Mapped[float | None] = mapped_column(Float)
    picture_score: Mapped[dict | None] = mapped_column(JSON)
    picture_bytes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    picture_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # What text recognition read on the picture; shown as a suggestion, never as the title.
    suggested_title: Mapped[str | None] = mapped_column(String(120))

    # A plain note: its ink's perceptual fingerprint (hex, scanner.notes), the paper's colour and
    # when a scan first saw it.
    plain: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    fingerprint: Mapped[str | None] = mapped_column(Text)
    color: Mapped[str | None] = mapped_column(String(16))
    first_seen_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # A plain note's one-time claim code, shown on the wall screen beside it: only its hash is
    # kept, it works once, until ``claim_code_expires_dt``; ``claim_code_dt`` is when it was made.
    claim_code_hash: Mapped[str | None] = mapped_column(String(64))
    claim_code_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    claim_code_expires_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    event: Mapped[Event] = relationship()
    batch: Mapped[PrintBatch | None] = relationship(back_populates="stickies")
    room: Mapped[Room | None] = relationship()
    slot: Mapped[Slot | None] = relationship()
    interests: Mapped[list[Interest]] = relationship(
        back_populates="sticky", cascade="all, delete-orphan"
    )

    @property
    def is_claimed(self) -> bool:
        return self.claimed_dt is not None

    @property
    def tag_list(self) -> list[str]:
        return split_tags(self.tags)

    @property
    def link_list(self) -> list[str]:
        return [line.strip() for line in (self.links or "").splitlines() if line.strip()]

    @property
    def on_grid(self) -> bool:
        return self.board_status in (BoardStatus.PLACED, BoardStatus.CONFLICT)

    def __repr__(self) -> str:
        return f"<Sticky {self.code} {self.kind}>"


def split_tags(text: str | None) -> list[str]:
    """Split a comma-separated tag field into clean, de-duplicated tags, keeping the first spelling."""
    seen: dict[str, str] = {}
    for part in (text or "").replace("#", " ").split(","):
        tag = " ".join(part.split())
        if tag and tag.casefold() not in seen:
            seen[tag.casefold()] = tag
    return list(seen.values())


class Placement(db.Model):
    """One change of a sticky's place on the wall: the history that the board state is built from."""

    __tablename__ = "placements"

    id: Mapped[int] = mapped_column(primary_key=True)
    sticky_id: Mapped[int] = mapped_column(ForeignKey("stickies.id"), index=True)
    from_room_id: Mapped[int | None] = mapped_column(ForeignKey("rooms.id", ondelete="SET NULL"))
    from_slot_id: Mapped[int | None] = mapped_column(ForeignKey("slots.id", ondelete="SET NULL"))
    from_status: Mapped[BoardStatus] = mapped_column(String(16))
    to_room_id: Mapped[int | None] = mapped_column(ForeignKey("rooms.id", ondelete="SET NULL"))
    to_slot_id: Mapped[int | None] = mapped_column(ForeignKey("slots.id", ondelete="SET NULL"))
    to_status: Mapped[BoardStatus] = mapped_column(String(16))
    source: Mapped[PlacementSource] = mapped_column(String(16))
    scan_id: Mapped[int | None] = mapped_column(ForeignKey("scans.id"), index=True)
    created_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    sticky: Mapped[Sticky] = relationship()
    to_room: Mapped[Room | None] = relationship(foreign_keys=[to_room_id])
    to_slot: Mapped[Slot | None] = relationship(foreign_keys=[to_slot_id])

    def __repr__(self) -> str:
        return f"<Placement {self.sticky_id} {self.from_status}->{self.to_status}>"


class NoteCheck(db.Model):
    """A plain note a scan could not tell apart from others: held for an organizer to say which it
    is (app.services.plain_notes). The board does not change for it meanwhile."""

    __tablename__ = "note_checks"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    # The scan that saw it last.
    scan_id: Mapped[int | None] = mapped_column(ForeignKey("scans.id", ondelete="SET NULL"))
    fingerprint: Mapped[str] = mapped_column(Text)
    color: Mapped[str | None] = mapped_column(String(16))
    # A note that looks like no note, seen where another note sits: most likely that one seen
    # badly. It waits for a second look instead of an organizer's answer.
    waiting: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # Where it was seen: a cell, or off the grid (both None).
    room_id: Mapped[int | None] = mapped_column(ForeignKey("rooms.id", ondelete="SET NULL"))
    slot_id: Mapped[int | None] = mapped_column(ForeignKey("slots.id", ondelete="SET NULL"))
    # The ids of the known notes it looks like.
    candidates: Mapped[list] = mapped_column(JSON)
    # Its picture in the pictures' store, under the event's folder, when the scan had one.
    picture_file: Mapped[str | None] = mapped_column(String(100))
    created_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    seen_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The organizer's answer: the note it is (an old one, or a new one made for it).
    resolved_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    sticky_id: Mapped[int | None] = mapped_column(ForeignKey("stickies.id", ondelete="SET NULL"))

    room: Mapped[Room | None] = relationship()
    slot: Mapped[Slot | None] = relationship()

    def __repr__(self) -> str:
        return f"<NoteCheck {self.id} of {len(self.candidates)} notes>"


class Interest(db.Model):
    """An "I'm interested" mark: one per browser and session."""

    __tablename__ = "interests"
    __table_args__ = (UniqueConstraint("sticky_id", "browser_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sticky_id: Mapped[int] = mapped_column(ForeignKey("stickies.id"), index=True)
    browser_id: Mapped[str] = mapped_column(String(64))
    created_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    sticky: Mapped[Sticky] = relationship(back_populates="interests")

    def __repr__(self) -> str:
        return f"<Interest {self.sticky_id} {self.browser_id[:6]}>"


class Scan(db.Model):
    """One analysed photo of the wall, kept append-only with what it saw."""

    __tablename__ = "scans"
    __table_args__ = (
        UniqueConstraint("event_id", "client_scan_id"),
        # Each scan asks whether its camera sent a newer one: a day of scans must not be read.
        Index("ix_scans_event_source_captured", "event_id", "source", "captured_dt"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    client_scan_id: Mapped[str] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(100))
    board_found: Mapped[bool] = mapped_column(Boolean)
    observations: Mapped[dict] = mapped_column(JSON)
    image_path: Mapped[str | None] = mapped_column(String(300))
    received_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the photo was taken: a camera's spooled scan arrives later. Null before this was kept.
    captured_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    undone_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<Scan {self.id} {self.client_scan_id!r}>"


class ApiToken(db.Model):
    """A bearer token for a wall camera. Only its hash is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<ApiToken {self.name!r}>"


class Organizer(db.Model):
    __tablename__ = "organizers"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))

    def __repr__(self) -> str:
        return f"<Organizer {self.username!r}>"


class OrganizerSession(db.Model):
    """One browser's log-in as an organizer. The cookie holds a random key; only its hash is stored.

    Deleting the row ends the session: log-out, a new password, ``openspaces admin logout-all``,
    and being idle or old past the limits (``ORGANIZER_SESSION_IDLE_S``, ``ORGANIZER_SESSION_MAX_S``).
    """

    __tablename__ = "organizer_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(
        ForeignKey("organizers.id", ondelete="CASCADE"), index=True
    )
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the session was last used, to a minute (app.services.organizers.SEEN_RESOLUTION).
    seen_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    organizer: Mapped[Organizer] = relationship()

    def __repr__(self) -> str:
        return f"<OrganizerSession {self.id} of organizer {self.organizer_id}>"


class CameraPairing(db.Model):
    """A pairing code shown on the organizer dashboard, until a phone uses it or a newer one shows.

    The code itself is signed and carries its time (app.services.cameras); the row says it is live.
    """

    __tablename__ = "camera_pairings"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    created_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<CameraPairing {self.name!r}>"


class MessageType(enum.StrEnum):
    """What a message of the outbox tells: the board news people care about."""

    POSTED = "session.posted"  # a session sticky came onto the wall
    TITLED = "session.titled"  # a session on the wall got its title, or a new one
    MOVED = "session.moved"  # a session on the wall changed room or slot
    REMOVED = "session.removed"  # a session sticky came off the wall
    OVER_CAPACITY = "session.over_capacity"  # more people interested than its room has seats
    STARTING = "session.starting"  # its slot starts in a few minutes
    ANNOUNCEMENT = "announcement"  # an organizer's word to everyone, with no sticky


# News that is told as soon as it is written: it is no change of the wall that could flicker.
UNSETTLED_TYPES = (MessageType.STARTING, MessageType.ANNOUNCEMENT)
# The changes of a sticky's place and title: a newer one replaces the one not yet told.
PLACE_TYPES = (MessageType.POSTED, MessageType.TITLED, MessageType.MOVED, MessageType.REMOVED)


class HookFormat(enum.StrEnum):
    """How a hook's messages are written and signed."""

    STANDARD = "standard"  # Standard Webhooks: JSON, signed with the hook's whsec_ secret
    SLACK = "slack"  # a Slack (or Mattermost) incoming webhook: {"text": ...}
    DISCORD = "discord"  # a Discord webhook: {"content": ...}
    MATRIX = (
        "matrix"  # a Matrix room, through the client-server API; the secret is the access token
    )


class OutboxMessage(db.Model):
    """One piece of board news, written in the transaction that made the change (app.services.outbox).

    A message waits ``OUTBOX_SETTLE_S`` after its last change (``changed_dt``) before it is
    released to the hooks: a newer change of the same sticky before then replaces it.
    ``message_id`` is the ``webhook-id`` every delivery of it carries, on every retry.
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_released_changed", "released_dt", "changed_dt"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[str] = mapped_column(String(40), unique=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    # The session the news is about; none for an announcement.
    sticky_id: Mapped[int | None] = mapped_column(
        ForeignKey("stickies.id", ondelete="CASCADE"), index=True
    )
    type: Mapped[MessageType] = mapped_column(String(32))
    # What the message says about the sticky, as it was at the change: code, title, room, start, end.
    data: Mapped[dict] = mapped_column(JSON)
    # The last change a message stands for, when it was written or replaced (the server's clock).
    created_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    changed_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the settled message was handed to the hooks (its deliveries made); null before.
    released_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.message_id} {self.type} sticky {self.sticky_id}>"


class Hook(db.Model):
    """A URL that gets board news. The secret is stored as given: it is needed to sign each delivery."""

    __tablename__ = "hooks"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    format: Mapped[HookFormat] = mapped_column(String(16), default=HookFormat.STANDARD)
    # Comma-separated message types it gets; empty: every type.
    events: Mapped[str] = mapped_column(String(300), default="")
    secret: Mapped[str] = mapped_column(String(100))
    created_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def event_list(self) -> list[str]:
        return [name for name in self.events.split(",") if name]

    def wants(self, message_type: str) -> bool:
        return not self.events or message_type in self.event_list

    def __repr__(self) -> str:
        return f"<Hook {self.id} {self.url!r}>"


class Follower(db.Model):
    """A browser that marked sessions: the private key of its calendar feed of them.

    The key is not the browser's cookie: the feed's address can be handed to a calendar app
    without handing over the browser's marks.
    """

    __tablename__ = "followers"

    id: Mapped[int] = mapped_column(primary_key=True)
    browser_id: Mapped[str] = mapped_column(String(64), unique=True)
    feed_key: Mapped[str] = mapped_column(String(64), unique=True)
    created_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<Follower {self.id}>"


class InstanceKey(db.Model):
    """A key the instance makes once and every one of its processes shares (the VAPID key pair)."""

    __tablename__ = "instance_keys"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    created_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class PushSubscription(db.Model):
    """A browser's Web Push subscription (app.services.push).

    Without ``person_id`` it tells the browser of the sessions it follows (moved, taken off,
    starting); with one, of new sessions on that person sticky's interests.
    """

    __tablename__ = "push_subscriptions"
    __table_args__ = (UniqueConstraint("endpoint", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    browser_id: Mapped[str] = mapped_column(String(64), index=True)
    endpoint: Mapped[str] = mapped_column(String(1000))
    p256dh: Mapped[str] = mapped_column(String(200))
    auth: Mapped[str] = mapped_column(String(100))
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("stickies.id", ondelete="CASCADE"), index=True
    )
    created_dt: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<PushSubscription {self.id}>"


class Delivery(db.Model):
    """One message to one hook or push subscription: tried until it answers 2xx, or dead after
    too many tries."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("message_id", "hook_id"),
        UniqueConstraint("message_id", "subscription_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("outbox_messages.id", ondelete="CASCADE"), index=True
    )
    # Exactly one of the two.
    hook_id: Mapped[int | None] = mapped_column(
        ForeignKey("hooks.id", ondelete="CASCADE"), index=True
    )
    subscription_id: Mapped[int | None] = mapped_column(
        ForeignKey("push_subscriptions.id", ondelete="CASCADE"), index=True
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # When the next try is due; null once delivered or dead. A worker trying it moves it on first,
    # so that another worker leaves it alone meanwhile.
    next_try_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(300))
    delivered_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    dead_dt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    message: Mapped[OutboxMessage] = relationship()
    hook: Mapped[Hook | None] = relationship()
    subscription: Mapped[PushSubscription | None] = relationship()

    def __repr__(self) -> str:
        to = f"hook {self.hook_id}" if self.hook_id else f"push {self.subscription_id}"
        return f"<Delivery {self.message_id} to {to} x{self.attempts}>"


def count_layout_changes(session: Session, flush_context, instances) -> None:
    """Count every change of an event's rooms, slots or time zone in its ``layout_version``.

    A scan keeps the event's room names and slot times between requests, and reads them again
    when the count it gets with the board's write lock differs (app.services.layout). The count
    goes up in SQL, so that two changes at once never leave it where it was after one. It runs
    before every flush: app.effects registers it with the session's other listeners.
    """
    changed: dict[int, Event] = {}
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Room | Slot):
            if obj in session.dirty and not session.is_modified(obj):
                continue
            with session.no_autoflush:
                event = obj.event or (session.get(Event, obj.event_id) if obj.event_id else None)
        elif isinstance(obj, Event) and obj in session.dirty:
            attrs = inspect(obj).attrs
            if not any(attrs[a].history.has_changes() for a in ("timezone", "rooms", "slots")):
                continue
            event = obj
        else:
            continue
        if event is not None and inspect(event).persistent and event not in session.deleted:
            changed[id(event)] = event
    for event in changed.values():
        event.layout_version = Event.layout_version + 1


# A sticky's misses are the scanner's bookkeeping: a scan that only counts one shows nothing new.
_UNSHOWN_STICKY_FIELDS = frozenset({"missed_scans", "missed_since_dt"})
# A message's release to the hooks is the delivery worker's bookkeeping; the wall shows the rest.
_UNSHOWN_MESSAGE_FIELDS = frozenset({"released_dt"})
# The wall screen's news: app.services.outbox.WALL_TYPES (a test holds them equal).
_WALL_MESSAGE_TYPES = frozenset({MessageType.ANNOUNCEMENT, MessageType.POSTED, MessageType.MOVED})


# The session's transaction, and the events whose count it went up in already.
_COUNTED = "openspaces.board_version_counted"


def count_board_changes(session: Session, flush_context, instances) -> None:
    """Count every change a live page shows in its event's ``board_version``, once per transaction.

    Those are the stickies (placed, moved, removed, claimed, edited, hidden, pictures and
    suggested titles), interest marks, rooms, slots, the event's settings and the wall screen's
    news. The count goes up once per transaction and event, in SQL: two changes at once never
    leave it where it was after one, and a rollback takes it back. It runs before every flush:
    app.effects registers it with the session's other listeners.
    """
    with session.no_autoflush:
        event_ids = {
            event_id
            for obj in (*session.new, *session.dirty, *session.deleted)
            if (event_id := _shown_event_id(session, obj)) is not None
        }
    _count(session, event_ids)


def count_bulk_board_changes(state: ORMExecuteState):
    """Count a bulk UPDATE or DELETE of stickies, interest marks, rooms or slots, which no flush
    sees (a claim is one conditional UPDATE), in the ``board_version`` of the events it touched.

    The events are read with the statement's own condition before it runs; they count only when
    it changed a row. app.effects registers this with the session's other listeners.
    """
    if not (state.is_update or state.is_delete) or state.bind_mapper is None:
        return None
    model = state.bind_mapper.class_
    if model not in (Sticky, Interest, Room, Slot):
        return None
    touched = (
        select(Sticky.event_id).join(Interest) if model is Interest else select(model.event_id)
    )
    if state.statement.whereclause is not None:
        touched = touched.where(state.statement.whereclause)
    event_ids = set(state.session.scalars(touched.distinct()))
    result = state.invoke_statement()
    if result.rowcount:
        _count(state.session, event_ids)
    return result


def _count(session: Session, event_ids: set[int]) -> None:
    """Put each event's ``board_version`` up by one, unless this transaction did so already."""
    # Once per transaction is enough: nobody sees the count before the commit. A savepoint's count
    # is its own, so that rolling it back does not take away a count the outer change needs.
    transaction = session.get_nested_transaction() or session.get_transaction()
    counted_in, counted = session.info.get(_COUNTED, (None, set()))
    if counted_in is not transaction:
        counted = set()
    event_ids = event_ids - counted
    session.info[_COUNTED] = (transaction, counted | event_ids)
    if not event_ids:
        return
    events = Event.__table__
    session.execute(
        events.update()
        .where(events.c.id.in_(sorted(event_ids)))
        .values(board_version=events.c.board_version + 1)
    )
    for event_id in event_ids:
        kept = session.identity_map.get(inspect(Event).identity_key_from_primary_key((event_id,)))
        if kept is not None:
            session.expire(kept, ["board_version"])


# The rows whose changes live pages show; every other row's change is passed over unread.
_SHOWN_MODELS = (Event, Room, Slot, Sticky, OutboxMessage, Interest)


def _shown_event_id(session: Session, obj) -> int | None:
    """Return the id of the event whose live pages show this change of ``obj``, or None."""
    if not isinstance(obj, _SHOWN_MODELS):
        return None
    if obj in session.dirty and not _changed(obj, ignoring=_unshown_fields(obj)):
        return None
    if isinstance(obj, Event):
        return obj.id if obj in session.dirty else None
    if isinstance(obj, Room | Slot | Sticky):
        return _event_id_of(obj)
    if isinstance(obj, OutboxMessage):
        return obj.event_id if obj.type in _WALL_MESSAGE_TYPES else None
    if isinstance(obj, Interest):
        sticky = obj.sticky or (session.get(Sticky, obj.sticky_id) if obj.sticky_id else None)
        return sticky.event_id if sticky is not None else None
    return None


def _event_id_of(obj: Room | Slot | Sticky) -> int | None:
    # A new row may know its event by the relationship only, before the flush fills event_id.
    if obj.event_id is not None:
        return obj.event_id
    return obj.event.id if obj.event is not None else None


def _unshown_fields(obj) -> frozenset[str]:
    if isinstance(obj, Sticky):
        return _UNSHOWN_STICKY_FIELDS
    if isinstance(obj, OutboxMessage):
        return _UNSHOWN_MESSAGE_FIELDS
    return frozenset()


def _changed(obj, *, ignoring: frozenset[str]) -> bool:
    """Return whether an attribute of ``obj`` outside ``ignoring`` holds a change to flush."""
    state = inspect(obj)
    # Only the attributes set since the row was loaded can hold a change: their keys are those of
    # the values kept from before (a camera's scan sets a few of a few dozen stickies' fields, and
    # reading every column's history cost a scan as much as the rest of its rules).
    return any(
        state.attrs[key].history.has_changes()
        for key in state.committed_state
        if key not in ignoring
    )
