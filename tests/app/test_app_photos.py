"""Photos of people stay private: stored images carry no metadata, the time-lapse blurs faces, and
the wall photos are deleted after the retention period."""

from __future__ import annotations

import datetime as dt
import io
import json

import cv2
import numpy as np
import pytest
from app_helpers import utc
from app_wall import codes, layouts, wall_for
from PIL import Image

from app.extensions import db
from app.models import Scan
from app.services.events import load_event_file
from app.services.images import encode_image
from app.services.photos import Purge, organizer_photo, public_name, purge_photos
from app.services.printing import kit_spec
from app.services.storage import FolderStorage
from app.settings import app_settings
from benchmarks.demo_wall import event_toml
from printables.drawing import Text
from printables.kit import poster_drawing
from printables.templates import PAPERS
from scanner.faces import find_faces

skimage_data = pytest.importorskip("skimage.data")

SCORE = {"px_per_mm": 3.0, "sharpness": 0.7, "glare": 0.0, "coverage": 1.0}
GPS_IFD = 0x8825
TRAILER = b"TRAILING-BYTES-AFTER-THE-IMAGE"


def view_with_gps() -> bytes:
    """Return a JPEG view with EXIF (a camera make and a GPS position) and bytes after its end."""
    image = Image.new("RGB", (152, 152), (200, 190, 120))
    exif = Image.Exif()
    exif[0x010F] = "SecretPhone"  # Make
    exif[GPS_IFD] = {1: "N", 2: (12.0, 58.0, 17.5), 3: "E", 4: (77.0, 35.0, 40.25)}
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    data = buffer.getvalue() + TRAILER
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(GPS_IFD)[1] == "N"
    return data


def post(client, manifest, **fields):
    return client.post(
        "/api/scans",
        data=fields,
        headers={"Authorization": f"Bearer {manifest['token']}"},
        content_type="multipart/form-data",
    )


def test_view_with_exif_gps_and_trailing_bytes_is_served_without_either(app, client, wall_event):
    code = codes(wall_event)[0]
    sent = view_with_gps()
    body = {"scan_id": "cam-1", "board_found": False, "stickies": []}
    response = post(
        client,
        wall_event,
        scan=json.dumps(body),
        **{f"view.{code}": (io.BytesIO(sent), f"{code}.jpg"), f"score.{code}": json.dumps(SCORE)},
    )
    assert response.status_code == 201
    assert response.get_json()["pictures"] == [code]
    served = client.get(f"/s/{code}/picture.jpg").data
    picture = Image.open(io.BytesIO(served))
    assert (picture.format, picture.size) == ("JPEG", (152, 152))
    assert dict(picture.getexif()) == {}
    assert picture.info.get("exif") is None
    assert b"Exif" not in served
    assert b"SecretPhone" not in served
    assert TRAILER not in served
    assert served.endswith(b"\xff\xd9")


def test_encode_image_bytes_keeps_pixels_and_drops_metadata():
    data = encode_image(view_with_gps(), suffix=".png")
    picture = Image.open(io.BytesIO(data))
    assert (picture.format, picture.size, dict(picture.getexif())) == ("PNG", (152, 152), {})
    # Decoded and encoded losslessly: the colour sent, give or take the JPEG decoder's rounding.
    assert np.abs(np.array(picture.getpixel((5, 5))) - (200, 190, 120)).max() <= 1
    assert TRAILER not in data


# Where the person stands in the wall photo (960 x 720): x, y, width, height in pixels.
PERSON = (600, 300, 360, 360)


def overlaps(box, area) -> bool:
    x, y, w, h = box
    ax, ay, aw, ah = area
    return x < ax + aw and ax < x + w and y < ay + ah and ay < y + h


def photo_with_a_person(manifest) -> np.ndarray:
    """Photograph the wall with Eileen Collins (scikit-image's astronaut) standing at its right."""
    photo = wall_for(manifest).photo(layouts(manifest)[0])
    x, y, w, h = PERSON
    person = cv2.cvtColor(skimage_data.astronaut(), cv2.COLOR_RGB2BGR)
    photo[y : y + h, x : x + w] = cv2.resize(person, (w, h), interpolation=cv2.INTER_AREA)
    return photo


def decode(data: bytes) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)


def test_timelapse_frame_blurs_the_face_of_a_person_at_the_wall(app, organizer_client, wall_event):
    photo = photo_with_a_person(wall_event)
    response = post(
        organizer_client, wall_event, photo=(io.BytesIO(encode_image(photo)), "wall.jpg")
    )
    assert response.status_code == 201
    scan = db.session.query(Scan).one()
    page = organizer_client.get("/admin/timelapse")
    assert f"/admin/scans/{scan.id}/public.jpg" in page.get_data(as_text=True)
    frame_url = f"/admin/scans/{scan.id}/public.jpg"
    served = organizer_client.get(frame_url)
    assert (served.status_code, served.mimetype) == (200, "image/jpeg")
    public = decode(served.data)
    organizers = decode(organizer_client.get(f"/admin/scans/{scan.id}/image").data)
    assert public.shape == organizers.shape == photo.shape

    # Her face: where it is in scikit-image's photograph (180, 70, 90 x 90), shrunk to PERSON.
    face_box = (600 + 127, 300 + 49, 63, 63)
    assert [box for box in find_faces(organizers) if overlaps(box, face_box)] != []
    assert [box for box in find_faces(public) if overlaps(box, face_box)] == []
    x, y, w, h = face_box
    face = (slice(y, y + h), slice(x, x + w))
    assert np.abs(public[face].astype(int) - organizers[face]).mean() > 10
    # The board's top left, far from her face: only encoded afresh.
    far = (slice(20, 220), slice(20, 300))
    assert np.abs(public[far].astype(int) - organizers[far]).mean() < 1.5
    assert Image.open(io.BytesIO(served.data)).getexif() == {}


@pytest.fixture
def later_event(app, tmp_path):
    """A second event, whose last slot ends in 2099."""
    path = tmp_path / "later.toml"
    path.write_text(
        event_toml(
            name="Later Open Spaces",
            slug="later",
            rooms=["Hall"],
            slots=[("2099-05-01T10:00", "2099-05-01T11:00")],
        ),
        encoding="utf-8",
    )
    report = load_event_file(path, new_event=True)
    db.session.commit()
    return report.event


def store_scan(event, scans_dir, scan_id: str) -> Scan:
    """Keep a scan of ``event`` with its photo, annotated copy and thumbnail on disk."""
    scan = Scan(
        event_id=event.id,
        client_scan_id=scan_id,
        source="wall-cam",
        board_found=True,
        observations={},
    )
    db.session.add(scan)
    db.session.flush()
    scans_dir.mkdir(parents=True, exist_ok=True)
    image = np.full((120, 160, 3), 90, np.uint8)
    stem = f"{scan.id}-abcd"
    for name in (f"{stem}.jpg", f"{stem}-annotated.jpg", f"{scan.id}-thumb.jpg"):
        (scans_dir / name).write_bytes(encode_image(image))
    scan.image_path = f"{stem}-annotated.jpg"
    db.session.commit()
    return scan


def files_of(scans_dir) -> list[str]:
    return sorted(path.name for path in scans_dir.iterdir())


def test_purge_deletes_photos_past_retention_and_keeps_the_rest(app, event, later_event):
    scans_dir = app_settings(app).scan.scans_dir
    past = [store_scan(event, scans_dir, f"past-{i}") for i in range(2)]
    kept = store_scan(later_event, scans_dir, "later-1")
    before = files_of(scans_dir)
    size = sum((scans_dir / name).stat().st_size for name in before if name.startswith("1-"))
    size += sum((scans_dir / name).stat().st_size for name in before if name.startswith("2-"))

    # The event's last slot ends on 26 September at 11:45 in Kolkata, 06:15 UTC.
    within = purge_photos(
        store=FolderStorage(scans_dir), retention_days=7, now=utc(2026, 10, 3, 6, 14)
    )
    assert within == Purge(scans=0, files=0, bytes=0)
    assert files_of(scans_dir) == before

    done = purge_photos(
        store=FolderStorage(scans_dir), retention_days=7, now=utc(2026, 10, 3, 6, 15)
    )
    assert done == Purge(scans=2, files=6, bytes=size)
    assert files_of(scans_dir) == sorted(
        [public_name(scan.image_path) for scan in past]
        + [f"{kept.id}-abcd.jpg", f"{kept.id}-abcd-annotated.jpg", f"{kept.id}-thumb.jpg"]
    )
    # The scan page shows the blurred copy once the photo as taken is gone.
    gone = past[0]
    assert organizer_photo(store=FolderStorage(scans_dir), scan=gone) == public_name(
        gone.image_path
    )
    again = purge_photos(
        store=FolderStorage(scans_dir), retention_days=7, now=utc(2026, 10, 3, 6, 15)
    )
    assert again == Purge(scans=0, files=0, bytes=0)


def test_purge_dry_run_deletes_nothing(app, event):
    scans_dir = app_settings(app).scan.scans_dir
    store_scan(event, scans_dir, "past-1")
    before = files_of(scans_dir)
    size = sum((scans_dir / name).stat().st_size for name in before)
    done = purge_photos(
        store=FolderStorage(scans_dir), retention_days=7, now=utc(2026, 12, 1), dry_run=True
    )
    assert done == Purge(scans=1, files=3, bytes=size)
    assert files_of(scans_dir) == before


def test_purge_cli_says_what_it_deleted_and_frees(app, runner, event, later_event):
    scans_dir = app_settings(app).scan.scans_dir
    public = public_name(store_scan(event, scans_dir, "past-1").image_path)
    store_scan(later_event, scans_dir, "later-1")
    assert sum((scans_dir / name).stat().st_size for name in files_of(scans_dir)) == 2 * 2838

    dry = runner.invoke("photos", "purge", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert dry.output == (
        "Would delete 3 photos of 1 scan more than 7 days past the event's end; would free 3 kB.\n"
    )
    assert len(files_of(scans_dir)) == 6

    done = runner.invoke("photos", "purge")
    assert done.output == (
        "Deleted 3 photos of 1 scan more than 7 days past the event's end; freed 3 kB.\n"
    )
    assert public in files_of(scans_dir)
    assert len(files_of(scans_dir)) == 4


def test_purge_cli_days_option_keeps_photos_within_it(app, runner, event):
    scans_dir = app_settings(app).scan.scans_dir
    store_scan(event, scans_dir, "past-1")
    days = (dt.datetime.now(dt.UTC) - utc(2026, 9, 26)).days + 30
    done = runner.invoke("photos", "purge", "--days", str(days))
    assert done.output == (
        f"Deleted 0 photos of 0 scans more than {days} days past the event's end; freed 0 bytes.\n"
    )
    assert len(files_of(scans_dir)) == 3


def test_poster_says_what_is_photographed_and_when_photos_are_deleted(app, event):
    kit = kit_spec(event, photo_retention_days=7)
    assert kit.notice == (
        "About the photos: a camera photographs this wall every few seconds to keep the live "
        "board up to date, and so whoever stands in front of it. Faces are blurred in the "
        "time-lapse of the wall. Only the organizers see the photos as taken, and they are "
        "deleted on Sat 3 Oct 2026, 7 days after the event. The pictures of the stickies, your "
        "handwriting, are kept."
    )
    drawing = poster_drawing(kit, page=PAPERS["a4"])
    printed = " ".join(op.text for op in drawing.ops if isinstance(op, Text) and op.size_pt <= 10)
    assert "deleted on Sat 3 Oct 2026, 7 days after the event." in printed
    assert kit_spec(event, photo_retention_days=30).notice.count("on Mon 26 Oct 2026, 30 days") == 1
