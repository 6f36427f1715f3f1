"""The storage of photos and pictures: the folder backend, and an S3 bucket on moto's server."""

import secrets
import time
from pathlib import Path

import pytest

from app.extensions import db
from app.services.pictures import store_views
from app.services.published import picture_version
from app.services.storage import (
    FolderStorage,
    S3Storage,
    StorageError,
    copy_stored,
    storage_from_url,
    stores_for,
)
from app.settings import app_settings, configure

JPEG = b"\xff\xd8\xff\xe0 not really a photo \xff\xd9"


def test_folder_storage_keeps_what_it_was_given(tmp_path):
    store = FolderStorage(tmp_path / "pictures")
    store.put("3/7KQ2XM-ab.jpg", JPEG)
    assert store.get("3/7KQ2XM-ab.jpg") == JPEG
    assert store.exists("3/7KQ2XM-ab.jpg") is True
    assert sorted(p.name for p in (tmp_path / "pictures" / "3").iterdir()) == ["7KQ2XM-ab.jpg"]


def test_folder_storage_replaces_and_deletes(tmp_path):
    store = FolderStorage(tmp_path)
    store.put("scans/1.jpg", b"first")
    store.put("scans/1.jpg", b"second")
    assert store.get("scans/1.jpg") == b"second"
    store.delete("scans/1.jpg")
    store.delete("scans/1.jpg")
    assert (store.get("scans/1.jpg"), store.exists("scans/1.jpg")) == (None, False)


@pytest.mark.parametrize("key", ["", "/etc/passwd", "../secret_key", "a/../../b", "a\\b"])
def test_folder_storage_refuses_keys_outside_its_folder(tmp_path, key):
    with pytest.raises(StorageError, match="not a storage key"):
        FolderStorage(tmp_path / "pictures").put(key, JPEG)
    assert not (tmp_path / "pictures").exists()


def test_storage_from_url_names_a_folder_or_a_bucket(tmp_path):
    assert FolderStorage(tmp_path).root == storage_from_url(f"file://{tmp_path}").root
    with pytest.raises(StorageError, match="no bucket"):
        storage_from_url("s3:///pictures")


def test_scan_photos_are_written_through_the_folder_storage(tmp_path):
    import numpy as np

    from app.services.ingest import encode_photo, write_photo

    written = []
    image = np.full((40, 60, 3), 200, dtype=np.uint8)
    store = FolderStorage(tmp_path / "scans")
    name = write_photo(store, "12-ab", encode_photo(image), written=written)
    assert name == "12-ab-annotated.jpg"
    assert sorted(p.name for p in (tmp_path / "scans").iterdir()) == [
        "12-ab-annotated.jpg",
        "12-ab.jpg",
    ]
    assert store.get("12-ab.jpg")[:2] == b"\xff\xd8"
    assert [item.key for item in written] == ["12-ab.jpg", "12-ab-annotated.jpg"]


def test_s3_storage_keeps_what_it_was_given(s3_bucket):
    store = S3Storage(bucket="pictures", prefix="board/pictures", endpoint_url=s3_bucket)
    store.put("3/7KQ2XM-ab.jpg", JPEG)
    assert store.get("3/7KQ2XM-ab.jpg") == JPEG
    assert store.exists("3/7KQ2XM-ab.jpg") is True
    listed = store.client.list_objects_v2(Bucket="pictures", Prefix="board/")["Contents"]
    assert [o["Key"] for o in listed] == ["board/pictures/3/7KQ2XM-ab.jpg"]
    store.delete("3/7KQ2XM-ab.jpg")
    assert (store.get("3/7KQ2XM-ab.jpg"), store.exists("3/7KQ2XM-ab.jpg")) == (None, False)


@pytest.mark.parametrize("kind", ["folder", "bucket"])
def test_storage_lists_copies_and_refuses_a_missing_source(kind, tmp_path, request):
    if kind == "folder":
        source, target = FolderStorage(tmp_path / "pending"), FolderStorage(tmp_path / "scans")
    else:
        endpoint = request.getfixturevalue("s3_bucket")
        # Moto keeps one bucket per test process, whichever server: a prefix of this test's own.
        prefix = secrets.token_hex(4)
        source = S3Storage(bucket="pictures", prefix=f"{prefix}/pending", endpoint_url=endpoint)
        target = S3Storage(bucket="pictures", prefix=f"{prefix}/scans", endpoint_url=endpoint)
    source.put("ab-annotated.jpg", JPEG)
    source.put("ab-view-7KQ2XM.png", b"png")
    source.put("cd.jpg", b"other")
    assert sorted(key for key, _ in source.listing(prefix="ab-")) == [
        "ab-annotated.jpg",
        "ab-view-7KQ2XM.png",
    ]
    assert all(abs(when - time.time()) < 60 for _, when in source.listing())
    copy_stored(source, "ab-annotated.jpg", target, "12-ab-annotated.jpg")
    assert (target.get("12-ab-annotated.jpg"), target.size("12-ab-annotated.jpg")) == (
        JPEG,
        len(JPEG),
    )
    with pytest.raises(FileNotFoundError):
        copy_stored(source, "gone.jpg", target, "12-gone.jpg")
    assert target.exists("12-gone.jpg") is False


def test_folder_copy_is_a_link_not_a_second_file(tmp_path):
    source, target = FolderStorage(tmp_path / "pending"), FolderStorage(tmp_path / "scans")
    source.put("ab.jpg", JPEG)
    copy_stored(source, "ab.jpg", target, "12-ab.jpg")
    assert target.path("12-ab.jpg").stat().st_ino == source.path("ab.jpg").stat().st_ino


def test_stores_for_picks_the_instance_folders_or_one_bucket(tmp_path, s3_bucket, monkeypatch):
    config = {"picture_dir": str(tmp_path / "pictures"), "upload_dir": str(tmp_path / "uploads")}
    folders = stores_for(url=None, **config)
    assert (folders.pictures.root, folders.scans.root, folders.pending.root) == (
        tmp_path / "pictures",
        tmp_path / "uploads" / "scans",
        tmp_path / "uploads" / "pending",
    )
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_bucket)
    bucket = stores_for(url="s3://pictures/board/", **config)
    assert [repr(bucket.pictures), repr(bucket.scans), repr(bucket.pending)] == [
        "<S3Storage s3://pictures/board/pictures/>",
        "<S3Storage s3://pictures/board/scans/>",
        "<S3Storage s3://pictures/board/pending/>",
    ]
    assert stores_for(url="s3://pictures/board/", **config) is bucket
    with pytest.raises(StorageError, match="no bucket"):
        stores_for(url="s3:///board", **config)


@pytest.fixture
def bucket_app(app, s3_bucket, monkeypatch):
    """The test app with its photos and pictures in moto's bucket ``pictures``, under a prefix of
    the test's own (moto keeps one bucket per test process, whichever server)."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_bucket)
    configure(app, STORAGE_URL=f"s3://pictures/{secrets.token_hex(4)}")
    return app


def test_bucket_picture_is_streamed_with_etag_and_answered_304(
    bucket_app, client, event, create_stickies, make_view
):
    (sticky,) = create_stickies(1)
    store = app_settings(bucket_app).scan.pictures_store
    store_views(event=event, views=[make_view(sticky.code)], store=store, cap_bytes=10**7)
    db.session.commit()
    key = f"{event.id}/{sticky.picture_file}"
    assert store.get(key) is not None
    assert not (Path(bucket_app.config["PICTURE_DIR"]) / key).exists()

    url = f"/s/{sticky.code}/picture.jpg?v={picture_version(sticky)}"
    response = client.get(url)
    assert (response.status_code, response.mimetype) == (200, "image/jpeg")
    assert response.data == store.get(key)
    assert response.content_length == sticky.picture_bytes
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.last_modified is not None
    etag = response.headers["ETag"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert (again.status_code, again.data, again.headers["ETag"]) == (304, b"", etag)
    since = client.get(url, headers={"If-Modified-Since": response.headers["Last-Modified"]})
    assert (since.status_code, since.data) == (304, b"")
    part = client.get(url, headers={"Range": "bytes=0-9"})
    assert (part.status_code, part.data) == (206, response.data[:10])
    head = client.head(url)
    assert (head.status_code, head.data, head.content_length) == (200, b"", len(response.data))
    assert client.get(f"/s/{sticky.code}/picture.jpg").headers["Cache-Control"] == (
        "no-cache, max-age=0"
    )


def test_bucket_picture_dropped_is_deleted_from_the_bucket_after_commit(
    bucket_app, organizer_client, event, create_stickies, make_view
):
    (sticky,) = create_stickies(1)
    store = app_settings(bucket_app).scan.pictures_store
    store_views(event=event, views=[make_view(sticky.code)], store=store, cap_bytes=10**7)
    db.session.commit()
    key = f"{event.id}/{sticky.picture_file}"
    response = organizer_client.post(f"/admin/stickies/{sticky.code}/picture/drop")
    assert response.status_code == 302
    assert store.exists(key) is False
    assert organizer_client.get(f"/s/{sticky.code}/picture.jpg").status_code == 404


def test_purge_deletes_past_photos_from_the_bucket_and_keeps_the_blurred_copy(
    bucket_app, runner, event, monkeypatch
):
    import numpy as np

    from app.models import Scan
    from app.services.images import encode_image

    store = app_settings(bucket_app).scan.scans_store
    scan = Scan(
        event_id=event.id,
        client_scan_id="past-1",
        source="wall-cam",
        board_found=True,
        observations={},
    )
    db.session.add(scan)
    db.session.flush()
    photo = encode_image(np.full((120, 160, 3), 90, np.uint8))
    for key in (f"{scan.id}-abcd.jpg", f"{scan.id}-abcd-annotated.jpg", f"{scan.id}-thumb.jpg"):
        store.put(key, photo)
    scan.image_path = f"{scan.id}-abcd-annotated.jpg"
    public = f"{scan.id}-abcd-public.jpg"
    db.session.commit()
    # The command makes its own app: the same bucket, named as an operator names it.
    monkeypatch.setenv("OPENSPACES_STORAGE_URL", bucket_app.config["STORAGE_URL"])
    done = runner.invoke("photos", "purge")
    assert done.output == (
        f"Deleted 3 photos of 1 scan more than 7 days past the event's end; "
        f"freed {3 * len(photo) / 1000:.0f} kB.\n"
    )
    assert [key for key, _ in store.listing()] == [public]
