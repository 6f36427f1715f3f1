"""Board news latency: from a wall camera's POST /api/scans to the hooks that are told of it.

    python -m benchmarks.news_latency                   # about three minutes, SQLite
    python -m benchmarks.news_latency --db postgres     # needs OPENSPACES_TEST_POSTGRES_URL
    python -m benchmarks.news_latency --scans 10 --down-s 5   # a smoke test

A fresh instance gets a 4 x 4 event, eight session stickies, a camera token and 20 standard hooks
(Standard Webhooks), all pointing at one receiver in this process (an HTTP server on loopback that
checks each signature and notes, per ``webhook-id`` and hook, when the message arrived). It is
served by ``openspaces serve`` as it starts with no options, with its delivery worker on.

1. Latency, news told at once (``OUTBOX_SETTLE_S = 0``): a camera posts N scans, each placing a
   sticky on the wall or moving one or two (every scan sees the whole wall, as a camera does),
   and waits until all 20 hooks have every message of the scan before the next one. Per delivery:
   the time from the scan's answer to the hook's arrival. p50 and p95 over all deliveries.
2. One sample with the default settle time (``OUTBOX_SETTLE_S`` not set) on a server of its
   own: the same time, and that time minus the settle time.
3. The receiver refuses connections (nothing listens on its port) for ``--down-s`` seconds (30)
   while scans come in, then comes up again; the server keeps its default backoff
   (``WEBHOOK_BACKOFF_S`` 5 s, doubling). Per message: when it arrived at the hooks, counted from
   its scan's answer and from the receiver coming up, the tries the database counted, and whether
   every hook got it under one ``webhook-id``, the one the outbox wrote.

4. The same as 1 with ``--push`` (2,000) Web Push subscriptions beside the 20 hooks, all to a
   local push endpoint in this process that decrypts each push with its browser's keys (RFC 8291)
   and notes the message's id from it. Each browser follows every session (it marked them all
   "I'm interested": moves reach it) and has a subscription for new sessions on a person sticky's
   interests, which every session shares (new sessions reach it): every message reaches 2,020
   subscribers. Fewer scans (``--push-scans``): each one is 2,020 deliveries.

The tables go into their own section of benchmarks/WEB.md, one per database.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import dataclasses
import datetime as dt
import hashlib
import hmac
import http.client
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from benchmarks.demo_wall import event_toml
from benchmarks.servers import free_port, serving
from benchmarks.web_locust import postgres_database, write_labelled

HERE = Path(__file__).parent
LABEL = "<!-- news-latency: written by benchmarks/news_latency.py -->"
HOOKS = 20
STICKIES = 8
ROOMS = ("Hall A", "Hall B", "Hall C", "Terrace")
SLOTS = tuple((f"2026-09-26T{h:02d}:00", f"2026-09-26T{h:02d}:45") for h in (10, 11, 12, 14))
DEFAULT_SETTLE_S = 5.0  # app.services.outbox.DEFAULT_SETTLE_S, without importing the app here
DEFAULT_BACKOFF_S = 5.0


# Who is told, and when it arrived ----------------------------------------------------------


class Arrivals:
    """When each message reached each subscriber: {webhook-id: {subscriber: first arrival}}.

    ``time.monotonic()`` of this process. Subscribers are the hooks (``hook-3``) and, later,
    Web Push subscriptions; a repeat of a message to one subscriber is counted, not timed.
    """

    def __init__(self) -> None:
        self.first: dict[str, dict[str, float]] = {}
        self.repeats = 0
        self.bad_signatures = 0
        self.changed = threading.Condition()

    def note(self, message_id: str, subscriber: str, at: float | None = None) -> None:
        at = time.monotonic() if at is None else at
        with self.changed:
            seen = self.first.setdefault(message_id, {})
            if subscriber in seen:
                self.repeats += 1
            else:
                seen[subscriber] = at
            self.changed.notify_all()

    def complete(self, count: int) -> list[str]:
        """Return the ids that every one of ``count`` subscribers has."""
        with self.changed:
            return [mid for mid, seen in self.first.items() if len(seen) >= count]

    def wait(self, ids_done: Callable[[], bool], seconds: float) -> bool:
        with self.changed:
            return self.changed.wait_for(ids_done, seconds)


class Listener(ThreadingHTTPServer):
    """A thread per request, and room for the server's 16 tries at once in the accept queue:
    socketserver's default of 5 drops their connections (retried a second later, or failed)."""

    request_queue_size = 128
    daemon_threads = True


class Receiver:
    """The hooks' receiver: ``/hook/<n>`` is hook n; checks each Standard Webhooks signature.
    ``/push/<n>`` is browser n's push endpoint: it decrypts the push with that browser's keys.

    ``down`` closes the port, so that every try is refused; ``up`` listens on it again.
    """

    def __init__(self, arrivals: Arrivals) -> None:
        self.arrivals = arrivals
        self.port = free_port()
        self.secrets: dict[str, str] = {}  # hook name -> whsec_ secret
        self.browsers: dict[str, tuple] = {}  # push subscriber name -> (private key, auth secret)
        self.server: ThreadingHTTPServer | None = None

    def url(self, n: int) -> str:
        return f"http://127.0.0.1:{self.port}/hook/{n}"

    def up(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                arrived = time.monotonic()
                if self.path.startswith("/push/"):
                    name = "push-" + self.path.rsplit("/", 1)[-1]
                    message_id = receiver.decrypted(name, body)["id"]
                    self.send_response(201)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    receiver.arrivals.note(message_id, name, arrived)
                    return
                name = "hook-" + self.path.rsplit("/", 1)[-1]
                message_id = self.headers["webhook-id"]
                if not receiver.signed(name, message_id, self.headers, body):
                    with receiver.arrivals.changed:
                        receiver.arrivals.bad_signatures += 1
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()
                receiver.arrivals.note(message_id, name, arrived)

            def log_message(self, *args):
                pass

        self.server = Listener(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def down(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def push_url(self, n: int) -> str:
        return f"http://127.0.0.1:{self.port}/push/{n}"

    def decrypted(self, name: str, body: bytes) -> dict:
        import http_ece

        private, auth = self.browsers[name]
        return json.loads(
            http_ece.decrypt(body, private_key=private, auth_secret=auth, version="aes128gcm")
        )

    def signed(self, name: str, message_id: str, headers, body: bytes) -> bool:
        key = base64.b64decode(self.secrets[name].removeprefix("whsec_"))
        content = f"{message_id}.{headers['webhook-timestamp']}.".encode() + body
        expected = base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()
        given = [s.split(",", 1)[-1] for s in headers["webhook-signature"].split()]
        return any(hmac.compare_digest(expected, s) for s in given)


def add_receivers(receiver: Receiver, *, hooks: int, push: int = 0, event=None) -> int:
    """Register ``hooks`` standard hooks at the receiver, then ``push`` browsers' Web Push
    subscriptions to its push endpoint; return how many subscribers each message reaches. Runs in
    the set-up app's context, before it commits."""
    from app.services.webhooks import add_hook

    for n in range(hooks):
        receiver.secrets[f"hook-{n}"] = add_hook(url=receiver.url(n)).secret
    if push:
        add_push_browsers(receiver, push, event)
    return hooks + push


def add_push_browsers(receiver: Receiver, count: int, event) -> None:
    """Subscribe ``count`` browsers, each following every session and every new session on the
    interests of a person sticky that every session shares (so every message reaches each)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from sqlalchemy import insert, select

    from app.extensions import db
    from app.models import Interest, PushSubscription, Sticky, StickyKind
    from app.services.claim_keys import claim_key
    from app.services.stickies import (
        PersonFields,
        SessionFields,
        allocate_stickies,
        claim_sticky,
    )

    sessions = db.session.scalars(select(Sticky).filter_by(kind=StickyKind.SESSION)).all()
    for n, sticky in enumerate(sessions):
        fields = SessionFields(title=f"Session {n + 1}", host="Host", tags="news")
        claim_sticky(sticky=sticky, fields=fields, key=claim_key(event=event, code=sticky.code))
    (person,) = allocate_stickies(
        event=event, count=1, kind=StickyKind.PERSON, template="note-76", paper="a4"
    ).stickies
    claim_sticky(
        sticky=person,
        fields=PersonFields(name="Reader", interests="news"),
        key=claim_key(event=event, code=person.code),
    )
    subscriptions, interests = [], []
    for n in range(count):
        private = ec.generate_private_key(ec.SECP256R1())
        auth = os.urandom(16)
        public = private.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        receiver.browsers[f"push-{n}"] = (private, auth)
        browser = f"news-browser-{n}"
        keys = {
            "browser_id": browser,
            "endpoint": receiver.push_url(n),
            "p256dh": base64.urlsafe_b64encode(public).rstrip(b"=").decode(),
            "auth": base64.urlsafe_b64encode(auth).rstrip(b"=").decode(),
        }
        subscriptions += [keys | {"person_id": None}, keys | {"person_id": person.id}]
        interests += [{"sticky_id": s.id, "browser_id": browser} for s in sessions]
    db.session.execute(insert(PushSubscription), subscriptions)
    db.session.execute(insert(Interest), interests)


# The served instance -----------------------------------------------------------------------


@dataclasses.dataclass
class Instance:
    folder: str
    database_url: str
    token: str
    codes: list[str]
    subscribers: int


def setup_instance(
    folder: str, database_url: str, receiver: Receiver, *, settle_s: float | None, push: int = 0
) -> Instance:
    """Create the event, its stickies, a camera token and the receivers; write the settings."""
    from app import create_app
    from app.extensions import db
    from app.models import StickyKind
    from app.services.events import load_event_file
    from app.services.organizers import create_token
    from app.services.stickies import allocate_stickies

    event_file = Path(folder, "event.toml")
    event_file.write_text(
        event_toml(name="News Camp", slug="news-camp", rooms=ROOMS, slots=SLOTS), encoding="utf-8"
    )
    app = create_app(
        {
            "INSTANCE_PATH": folder,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "news",
            "WEBHOOK_DELIVERY": False,
        }
    )
    with app.app_context():
        event = load_event_file(event_file).event
        batch = allocate_stickies(
            event=event, count=STICKIES, kind=StickyKind.SESSION, template="note-76", paper="a4"
        )
        _, token = create_token(name="news-cam")
        subscribers = add_receivers(receiver, hooks=HOOKS, push=push, event=event)
        db.session.commit()
        codes = [s.code for s in batch.stickies]
        db.session.remove()
        db.engine.dispose()
    settings = ["OCR_ENGINE = None"]  # title reading is not part of this
    if settle_s is not None:
        settings.append(f"OUTBOX_SETTLE_S = {settle_s}")
    Path(folder, "config.py").write_text("\n".join(settings) + "\n", encoding="utf-8")
    return Instance(folder, database_url, token, codes, subscribers)


class Camera:
    """A wall camera posting scans that each place a new sticky or move one or two."""

    def __init__(self, port: int, instance: Instance) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.instance = instance
        self.wall: dict[str, tuple[str, str]] = {}
        self.sent = 0

    def _free_cell(self) -> tuple[str, str]:
        taken = set(self.wall.values())
        cells = [(room, start) for start, _ in SLOTS for room in ROOMS]
        return next(c for c in cells[self.sent % len(cells) :] + cells if c not in taken)

    def next_changes(self) -> list[str]:
        """Change the wall as the next scan will see it; return the codes that changed."""
        codes = self.instance.codes
        unplaced = [c for c in codes if c not in self.wall]
        if unplaced:
            changed = [unplaced[0]]
        else:
            first = codes[self.sent % len(codes)]
            changed = [first] if self.sent % 3 else [first, codes[(self.sent + 3) % len(codes)]]
        for code in changed:
            self.wall[code] = self._free_cell()
        return changed

    def scan(self) -> tuple[list[str], float]:
        """Post the next scan; return the codes it changed and when its answer came."""
        changed = self.next_changes()
        self.sent += 1
        body = {
            "scan_id": f"news-{self.sent}",
            "board_found": True,
            "stickies": [
                {"code": code, "room": room, "slot": slot, "via": "marker"}
                for code, (room, slot) in self.wall.items()
            ],
        }
        headers = {
            "Authorization": f"Bearer {self.instance.token}",
            "Content-Type": "application/json",
        }
        self.conn.request("POST", "/api/scans", json.dumps(body), headers)
        response = self.conn.getresponse()
        answer = response.read()
        answered = time.monotonic()
        if response.status != 201:
            raise SystemExit(f"scan {self.sent}: {response.status} {answer[:200]!r}")
        return changed, answered


def wait_for_news(arrivals: Arrivals, before: set[str], count: int, subscribers: int, seconds):
    """Wait until ``count`` new messages reached every subscriber; return their ids."""

    def done() -> bool:
        return len(set(arrivals.complete(subscribers)) - before) >= count

    if not arrivals.wait(done, seconds):
        raise SystemExit(f"{count} messages did not reach {subscribers} subscribers in {seconds} s")
    return sorted(set(arrivals.complete(subscribers)) - before)


def latencies(arrivals: Arrivals, ids: list[str], answered: float, prefix: str = "") -> list[float]:
    """Each delivery of ``ids`` (to subscribers named ``prefix...``): seconds from the scan's
    answer to its arrival."""
    return [
        at - answered
        for mid in ids
        for name, at in arrivals.first[mid].items()
        if name.startswith(prefix)
    ]


def measure_latency(
    camera: Camera, arrivals: Arrivals, *, scans: int, pause_s: float, wait_s: float = 60
) -> dict:
    """Post ``scans`` scans, each told to every subscriber before the next; return the times."""
    subscribers = camera.instance.subscribers
    times: dict[str, list[float]] = {"": [], "hook-": [], "push-": []}
    messages = 0
    for _ in range(scans):
        before = set(arrivals.first)
        changed, answered = camera.scan()
        ids = wait_for_news(arrivals, before, len(changed), subscribers, wait_s)
        for prefix, kept in times.items():
            kept += latencies(arrivals, ids, answered, prefix)
        messages += len(ids)
        time.sleep(pause_s)
    return {
        "scans": scans,
        "messages": messages,
        "times": times[""],
        "hook_times": times["hook-"],
        "push_times": times["push-"],
    }


def measure_settled(camera: Camera, arrivals: Arrivals, settle_s: float) -> dict:
    """Post one scan to a server that settles news for ``settle_s``; return its deliveries' times."""
    before = set(arrivals.first)
    changed, answered = camera.scan()
    ids = wait_for_news(arrivals, before, len(changed), camera.instance.subscribers, settle_s + 60)
    return {"messages": len(ids), "times": latencies(arrivals, ids, answered)}


def measure_down(
    camera: Camera, arrivals: Arrivals, receiver: Receiver, *, down_s: float, scans: int
) -> dict:
    """Take the receiver down for ``down_s`` while ``scans`` scans come in, one a second; return
    per message when its scan was answered and when it reached the subscribers."""
    subscribers = camera.instance.subscribers
    receiver.down()
    went_down = time.monotonic()
    before = set(arrivals.first)
    posted: list[tuple[list[str], float]] = [camera.scan()]
    for _ in range(scans - 1):
        time.sleep(1.0)
        posted.append(camera.scan())
    time.sleep(max(0.0, went_down + down_s - time.monotonic()))
    receiver.up()
    came_up = time.monotonic()
    count = sum(len(changed) for changed, _ in posted)
    ids = wait_for_news(arrivals, before, count, subscribers, 4 * DEFAULT_BACKOFF_S + down_s + 120)
    time.sleep(1.0)  # a try under another id would come now
    strays = set(arrivals.first) - before - set(ids)
    return {
        "went_down": went_down,
        "came_up": came_up,
        "posted": posted,
        "ids": ids,
        "strays": len(strays),
    }


def stored_deliveries(instance: Instance, ids: list[str]) -> dict[str, dict]:
    """Per message id: what the outbox holds of it, its deliveries' tries and the codes it tells."""
    from sqlalchemy import select

    from app import create_app
    from app.extensions import db
    from app.models import Delivery, OutboxMessage

    app = create_app(
        {
            "INSTANCE_PATH": instance.folder,
            "SQLALCHEMY_DATABASE_URI": instance.database_url,
            "WEBHOOK_DELIVERY": False,
        }
    )
    found = {}
    with app.app_context():
        rows = db.session.execute(
            select(OutboxMessage, Delivery)
            .join(Delivery, Delivery.message_id == OutboxMessage.id)
            .where(OutboxMessage.message_id.in_(ids))
        ).all()
        for message, delivery in rows:
            entry = found.setdefault(
                message.message_id, {"code": message.data["code"], "tries": [], "type": ""}
            )
            entry["type"] = message.type
            entry["tries"].append(delivery.attempts)
        db.session.remove()
        db.engine.dispose()
    return found


# The run -----------------------------------------------------------------------------------


@contextlib.contextmanager
def served_instance(db: str, receiver: Receiver, *, settle_s, push: int = 0):
    """Set up and serve a fresh instance on ``db`` (sqlite, postgres); yield it and its port."""
    with contextlib.ExitStack() as stack:
        folder = stack.enter_context(tempfile.TemporaryDirectory())
        if db == "postgres":
            database_url, drop = postgres_database()
            stack.callback(drop)
        else:
            database_url = f"sqlite:///{folder}/openspaces.sqlite"
        instance = setup_instance(folder, database_url, receiver, settle_s=settle_s, push=push)
        port, _ = stack.enter_context(serving(folder, database_url=database_url))
        yield instance, port


def try_times(count: int) -> list[float]:
    """When the first ``count`` tries of a delivery fall, from its message, with the default backoff."""
    times = [0.0]
    for n in range(count - 1):
        times.append(times[-1] + DEFAULT_BACKOFF_S * 2**n)
    return times


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}"


def run(args) -> dict:
    """Run the three measurements; return what the report needs."""
    os.environ["OPENSPACES_WEBHOOK_DELIVERY"] = "1"
    loads = [os.getloadavg()[0]]
    arrivals = Arrivals()
    receiver = Receiver(arrivals)
    receiver.up()
    with served_instance(args.db, receiver, settle_s=0) as (instance, port):
        camera = Camera(port, instance)
        camera.scan()  # the first request starts the server's worker; not counted
        wait_for_news(arrivals, set(), 1, instance.subscribers, 60)
        now = measure_latency(camera, arrivals, scans=args.scans, pause_s=args.pause_s)
        down = measure_down(camera, arrivals, receiver, down_s=args.down_s, scans=3)
        down["stored"] = stored_deliveries(instance, down["ids"])
    receiver.down()

    arrivals_20 = Arrivals()
    receiver_20 = Receiver(arrivals_20)
    receiver_20.up()
    with served_instance(args.db, receiver_20, settle_s=None) as (instance, port):
        camera = Camera(port, instance)
        settled = measure_settled(camera, arrivals_20, DEFAULT_SETTLE_S)
    receiver_20.down()

    pushed, arrivals_push = None, Arrivals()
    if args.push:
        receiver_push = Receiver(arrivals_push)
        receiver_push.up()
        with served_instance(args.db, receiver_push, settle_s=0, push=args.push) as (
            instance_push,
            port,
        ):
            camera = Camera(port, instance_push)
            camera.scan()  # the first request starts the server's worker; not counted
            wait_for_news(arrivals_push, set(), 1, instance_push.subscribers, 600)
            pushed = measure_latency(
                camera, arrivals_push, scans=args.push_scans, pause_s=args.pause_s, wait_s=600
            )
        receiver_push.down()
    loads.append(os.getloadavg()[0])
    checks = {
        "repeats": arrivals.repeats + arrivals_20.repeats + arrivals_push.repeats,
        "bad_signatures": arrivals.bad_signatures + arrivals_20.bad_signatures,
    }
    return {
        "now": now,
        "settled": settled,
        "pushed": pushed,
        "down": down,
        "arrivals": arrivals,
        "loads": loads,
        "checks": checks,
        "subscribers": instance.subscribers,
        "push": args.push,
    }


def latency_rows(result: dict) -> list[str]:
    now, settled = result["now"], result["settled"]
    times, late = now["times"], settled["times"]
    return [
        "| settle time | scans | messages | deliveries | p50 ms | p95 ms | max ms |",
        "|---|---|---|---|---|---|---|",
        f"| 0 s (`OUTBOX_SETTLE_S = 0`) | {now['scans']} | {now['messages']} | {len(times)} | "
        f"{ms(statistics.median(times))} | {ms(percentile(times, 0.95))} | {ms(max(times))} |",
        f"| {DEFAULT_SETTLE_S:g} s (the default), one scan | 1 | {settled['messages']} | {len(late)} | "
        f"{ms(statistics.median(late))} | {ms(percentile(late, 0.95))} | {ms(max(late))} |",
        f"| the same, minus the {DEFAULT_SETTLE_S:g} s settle time | 1 | {settled['messages']} | {len(late)} | "
        f"{ms(statistics.median(late) - DEFAULT_SETTLE_S)} | "
        f"{ms(percentile(late, 0.95) - DEFAULT_SETTLE_S)} | {ms(max(late) - DEFAULT_SETTLE_S)} |",
        *push_rows(result),
    ]


def push_rows(result: dict) -> list[str]:
    pushed = result["pushed"]
    if not pushed:
        return []
    rows = []
    for label, times in (
        ("hooks", pushed["hook_times"]),
        ("Web Push", pushed["push_times"]),
        ("all", pushed["times"]),
    ):
        rows.append(
            f"| 0 s, {HOOKS} hooks + {result['push']:,} Web Push subscriptions: {label} | "
            f"{pushed['scans']} | {pushed['messages']} | {len(times)} | "
            f"{ms(statistics.median(times))} | {ms(percentile(times, 0.95))} | {ms(max(times))} |"
        )
    return rows


def down_rows(result: dict) -> list[str]:
    down, arrivals = result["down"], result["arrivals"]
    by_code = {}
    for mid in down["ids"]:
        by_code.setdefault(down["stored"][mid]["code"], []).append(mid)
    lines = [
        "| message | scan answered (s after the receiver went down) | arrived: first hook / last "
        "hook (s after its scan) | after the receiver came up (s) | tries per hook (database) "
        "| hooks that got it, under the outbox's `webhook-id` |",
        "|---|---|---|---|---|---|",
    ]
    n = 0
    for changed, answered in down["posted"]:
        for code in changed:
            mid = by_code[code].pop(0)
            n += 1
            seen = arrivals.first[mid]
            tries = down["stored"][mid]["tries"]
            first, last = min(seen.values()), max(seen.values())
            lines.append(
                f"| {n} ({down['stored'][mid]['type']}) | {answered - down['went_down']:.1f} | "
                f"{first - answered:.1f} / {last - answered:.1f} | "
                f"{first - down['came_up']:.1f} | {min(tries)}–{max(tries)} | "
                f"{len(seen)} of {len(tries)} |"
            )
    lines += [
        "",
        f"- ids at the receiver other than the outbox's, in the down case: {down['strays']}",
    ]
    return lines


def label(db: str) -> str:
    """Return the WEB.md section's label: one section per database."""
    return LABEL if db == "sqlite" else LABEL.replace("news-latency", f"news-latency {db}")


def report(args, result: dict) -> list[str]:
    loads = result["loads"]
    checks = result["checks"]
    return [
        label(args.db),
        "## Board news latency" + (" on PostgreSQL" if args.db == "postgres" else ""),
        "",
        f"- date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; machine: {os.cpu_count()} cores, "
        f"load average {loads[0]:.1f} at the start and {loads[1]:.1f} at the end (other jobs "
        "share the cores); server, camera and receiver on the same machine",
        f"- command: `python -m benchmarks.news_latency --db {args.db} --scans {args.scans} "
        f"--down-s {args.down_s:g} --push {args.push} --push-scans {args.push_scans}`",
        f"- `openspaces serve` as it starts with no options, {args.db}; {HOOKS} standard hooks "
        f"(Standard Webhooks, signed) to one receiver on loopback, {result['subscribers']} "
        "subscribers in all; a camera posts scans that each place a sticky or move one or two, and "
        "waits until every subscriber has the scan's news",
        f"- with Web Push: {args.push:,} browsers subscribed to a push endpoint on loopback that "
        "decrypts every push (aes128gcm) with the browser's keys; each browser follows every "
        "session and new sessions on interests they all share, so every message goes to "
        f"{HOOKS + args.push:,} subscribers",
        "- time of a delivery: from the scan's answer to the camera to the hook's arrival",
        "",
        *latency_rows(result),
        "",
        f"The receiver refusing connections for {args.down_s:g} s while three scans come in, a "
        f"second apart (server on `OUTBOX_SETTLE_S = 0` and the default backoff, "
        f"{DEFAULT_BACKOFF_S:g} s doubling):",
        "",
        *down_rows(result),
        f"- tries fall {', '.join(f'{t:g}' for t in try_times(4))} s after a message is written "
        f"(backoff {DEFAULT_BACKOFF_S:g} s, doubling): a message waits for the first of them after "
        "the receiver is back",
        "",
        f"- signatures that did not verify: {checks['bad_signatures']}; a message that reached "
        f"a hook twice: {checks['repeats']}",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Board news latency, scan to hook.")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--scans", type=int, default=40, help="scans told at once")
    parser.add_argument("--pause-s", type=float, default=0.5, help="pause after each scan's news")
    parser.add_argument("--down-s", type=float, default=30.0, help="how long the receiver is down")
    parser.add_argument("--push", type=int, default=2000, help="Web Push subscriptions (0: none)")
    parser.add_argument("--push-scans", type=int, default=6, help="scans with Web Push")
    parser.add_argument("--out", default=str(HERE / "WEB.md"))
    args = parser.parse_args(argv)
    result = run(args)
    write_labelled(args.out, report(args, result), label(args.db))
    return 0


if __name__ == "__main__":
    sys.exit(main())
