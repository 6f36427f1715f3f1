"""Serving a sticky picture from the instance folder and from an S3 bucket (moto's server).

    .venv/bin/python -m benchmarks.storage_bench [REQUESTS] [ROUNDS]

Each round starts one process per store, alternately, and times REQUESTS requests of a 40 kB
picture through the app (Flask's test client: the app's own work, no network) and as many
conditional requests answered 304. It prints the median microseconds per request and the
bucket's time over the folder's, within the run. Moto runs in the measuring process, so the
bucket's figures include moto's own work: a real store's network time replaces it.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PICTURE = bytes(range(256)) * 160  # 40 kB, about one sticky picture


def measure(kind: str, count: int) -> tuple[float, float]:
    """Return the median seconds of a GET and of a conditional GET of one picture."""
    from app import create_app
    from app.extensions import db
    from app.models import StickyKind
    from app.services.events import load_event_file
    from app.services.stickies import allocate_stickies
    from app.settings import app_settings
    from benchmarks.demo_wall import WALL_TOML

    instance = Path(tempfile.mkdtemp())
    config = {"INSTANCE_PATH": str(instance), "SECRET_KEY": "bench", "OCR_ENGINE": None}
    if kind == "bucket":
        config["STORAGE_URL"] = f"s3://pictures/{_start_bucket()}"
    app = create_app({**config, "WEBHOOK_DELIVERY": False})
    with app.app_context():
        (instance / "wall.toml").write_text(WALL_TOML, encoding="utf-8")
        event = load_event_file(instance / "wall.toml").event
        (sticky,) = allocate_stickies(
            event=event, count=1, kind=StickyKind.SESSION, template="note-76", paper="a4"
        ).stickies
        sticky.picture_file = f"{sticky.code}-0123456789abcdef.jpg"
        sticky.picture_bytes = len(PICTURE)
        app_settings(app).scan.pictures_store.put(f"{event.id}/{sticky.picture_file}", PICTURE)
        db.session.commit()
        url = f"/s/{sticky.code}/picture.jpg?v=0123456789abcdef"
    client = app.test_client()
    etag = client.get(url).headers["ETag"]
    return _median(lambda: client.get(url).data, count), _median(
        lambda: client.get(url, headers={"If-None-Match": etag}), count
    )


def _start_bucket() -> str:
    import boto3
    from moto.server import ThreadedMotoServer

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ[name] = "bench"
    os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    os.environ["AWS_ENDPOINT_URL"] = f"http://{host}:{port}"
    boto3.client("s3").create_bucket(Bucket="pictures")
    return "bench"


def _median(request, count: int) -> float:
    times = []
    for _ in range(count):
        start = time.perf_counter()
        request()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--one":
        print(*measure(sys.argv[2], int(sys.argv[3])))
        return
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    found: dict[str, list[tuple[float, float]]] = {"folder": [], "bucket": []}
    for _ in range(rounds):
        for kind in found:
            out = subprocess.run(
                [sys.executable, "-m", "benchmarks.storage_bench", "--one", kind, str(count)],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split()
            found[kind].append((float(out[-2]), float(out[-1])))
    print("| store | GET (µs, median of rounds) | 304 (µs) |")
    print("|---|---|---|")
    medians = {}
    for kind, rows in found.items():
        medians[kind] = [statistics.median(r[i] for r in rows) * 1e6 for i in (0, 1)]
        print(f"| {kind} | {medians[kind][0]:.0f} | {medians[kind][1]:.0f} |")
    ratio = [medians["bucket"][i] / medians["folder"][i] for i in (0, 1)]
    print(f"| bucket / folder | {ratio[0]:.2f} | {ratio[1]:.2f} |")


if __name__ == "__main__":
    main()
