"""The storage of photos and pictures: the folder backend, and an S3 bucket on moto's server."""

import pytest

from app.services.storage import FolderStorage, S3Storage, StorageError, storage_from_url

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
    listed = store.client.list_objects_v2(Bucket="pictures")["Contents"]
    assert [o["Key"] for o in listed] == ["board/pictures/3/7KQ2XM-ab.jpg"]
    store.delete("3/7KQ2XM-ab.jpg")
    assert (store.get("3/7KQ2XM-ab.jpg"), store.exists("3/7KQ2XM-ab.jpg")) == (None, False)
