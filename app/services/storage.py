"""Where photos and sticky pictures are kept: a folder (the instance's, by default) or an S3 bucket.

Keys are relative, slash-separated names such as ``12-ab34cd56.jpg`` or ``3/7KQ2XM-…jpg``.
Every backend stores a value whole or not at all: a reader never sees half a file.

- ``FolderStorage(root)``: files under ``root``; the default, with the instance folder's
  ``pictures/`` and ``uploads/scans/`` as roots.
- ``S3Storage(bucket=…, prefix=…)``: any S3-compatible store (AWS, MinIO, Garage, Ceph); needs
  ``boto3`` (``pip install 'openspaces[s3]'``). Endpoint, credentials and region come from boto3's
  own places (``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``,
  ``AWS_DEFAULT_REGION``, ``~/.aws``).

``stores_for`` picks them as the settings say (app.settings.ScanSettings): ``STORAGE_URL`` (``OPENSPACES_STORAGE_URL``)
``s3://bucket/prefix`` keeps pictures under ``prefix/pictures/``, scan photos under
``prefix/scans/`` and previewed photos under ``prefix/pending/``, so that every app machine reads
what any of them wrote; unset, the folders ``PICTURE_DIR``, ``UPLOAD_DIR/scans`` and
``UPLOAD_DIR/pending``.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, NamedTuple, Protocol

from app.services import ServiceError


class StorageError(ServiceError):
    """A key that cannot name a stored file, or a store that refused a write."""


def check_key(key: str) -> str:
    """Return ``key`` when it is a relative name without ``..``; raise StorageError otherwise."""
    path = PurePosixPath(key)
    if not key or path.is_absolute() or ".." in path.parts or "\\" in key or "\x00" in key:
        raise StorageError(f"not a storage key: {key!r}")
    return key


@dataclass(frozen=True)
class Fetched:
    """A stored object on its way to a reader: its body as a stream, and what a cache needs.

    ``body`` is None when the object is what the reader already holds (its ETag matched, or it
    was not modified since): answer 304.
    """

    body: IO[bytes] | None
    size: int
    etag: str  # unquoted
    modified: dt.datetime | None


class Storage(Protocol):
    def put(self, key: str, data: bytes, *, content_type: str = "image/jpeg") -> None: ...

    def put_file(self, key: str, source: Path) -> None: ...

    def get(self, key: str) -> bytes | None: ...

    def delete(self, key: str) -> None: ...

    def exists(self, key: str) -> bool: ...

    def size(self, key: str) -> int | None: ...

    def local_path(self, key: str) -> Path | None: ...

    def fetch(
        self, key: str, *, if_none_match: str | None = None, if_modified_since=None
    ) -> Fetched | None: ...

    def listing(self, *, prefix: str = "") -> Iterator[tuple[str, float]]: ...


class Stored(NamedTuple):
    """One stored file, to delete after a transaction ends (app.effects.Effect.DELETE_FILE)."""

    store: Storage
    key: str


def delete_stored(items: Iterable[Stored | os.PathLike]) -> None:
    """Delete each stored file (or local path) in ``items``; one already gone is fine."""
    for item in items:
        if isinstance(item, Stored):
            item.store.delete(item.key)
        else:
            Path(item).unlink(missing_ok=True)


def copy_stored(source: Storage, key: str, target: Storage, target_key: str) -> None:
    """Store ``key`` of ``source`` as ``target_key`` in ``target``; raise FileNotFoundError when
    ``source`` has no ``key``. A folder's file goes to another folder as a link, not a copy."""
    path = source.local_path(key)
    if path is not None:
        target.put_file(target_key, path)
        return
    data = source.get(key)
    if data is None:
        raise FileNotFoundError(key)
    target.put(target_key, data, content_type=_content_type(key))


@contextmanager
def local_copy(store: Storage, key: str) -> Iterator[Path]:
    """Yield a local file that holds ``key``: the stored file itself in a folder, a temporary copy
    (deleted afterwards) of a bucket's object. The file does not exist when the key does not."""
    path = store.local_path(key)
    if path is not None:
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="openspaces-") as folder:
        copy = Path(folder) / PurePosixPath(key).name
        data = store.get(key)
        if data is not None:
            copy.write_bytes(data)
        yield copy


class FolderStorage:
    """Files under a folder; a write goes to a ``.part`` file first and is renamed into place."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        """Return the file that holds ``key`` (it may not exist)."""
        return self.root / check_key(key)

    def local_path(self, key: str) -> Path:
        """Return the file that holds ``key``: a folder's files are served as files."""
        return self.path(key)

    def put(self, key: str, data: bytes, *, content_type: str = "image/jpeg") -> None:
        target = self.path(key)
        part = target.with_name(f"{target.name}.{secrets.token_hex(4)}.part")
        try:
            part.write_bytes(data)
        except FileNotFoundError:  # the first file of its folder
            target.parent.mkdir(parents=True, exist_ok=True)
            part.write_bytes(data)
        part.replace(target)

    def put_file(self, key: str, source: Path) -> None:
        """Store the file at ``source`` as ``key``: linked when it can be, else copied whole."""
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        part = target.with_name(f"{target.name}.{secrets.token_hex(4)}.part")
        try:
            os.link(source, part)
        except OSError:  # another file system, or none that links: a copy (a missing source raises)
            shutil.copyfile(source, part)
        part.replace(target)

    def get(self, key: str) -> bytes | None:
        try:
            return self.path(key).read_bytes()
        except FileNotFoundError:
            return None

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def size(self, key: str) -> int | None:
        try:
            return self.path(key).stat().st_size
        except FileNotFoundError:
            return None

    def fetch(self, key: str, *, if_none_match=None, if_modified_since=None) -> Fetched | None:
        """Return the file opened for reading (the views send a folder's files by path instead)."""
        path = self.path(key)
        try:
            body = path.open("rb")
        except FileNotFoundError:
            return None
        stat = os.fstat(body.fileno())
        modified = dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC)
        return Fetched(body, stat.st_size, f"{stat.st_mtime}-{stat.st_size}", modified)

    def listing(self, *, prefix: str = "") -> Iterator[tuple[str, float]]:
        """Yield the key and modification time (seconds since the epoch) of each file whose key
        begins with ``prefix``, half-written ones included."""
        if not self.root.is_dir():
            return
        for path in self.root.rglob("*"):
            key = path.relative_to(self.root).as_posix()
            if not key.startswith(prefix):
                continue
            try:
                if path.is_file():
                    yield key, path.stat().st_mtime
            except FileNotFoundError:
                continue  # deleted meanwhile

    def __repr__(self) -> str:
        return f"<FolderStorage {self.root}>"


class S3Storage:
    """Objects in an S3-compatible bucket under ``prefix``; one PUT stores an object whole."""

    def __init__(
        self, *, bucket: str, prefix: str = "", endpoint_url: str | None = None, client=None
    ) -> None:
        self.client = client if client is not None else s3_client(endpoint_url)
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    def _key(self, key: str) -> str:
        return self.prefix + check_key(key)

    def local_path(self, key: str) -> None:
        """A bucket's objects are no local files."""
        return None

    def put(self, key: str, data: bytes, *, content_type: str = "image/jpeg") -> None:
        self.client.put_object(
            Bucket=self.bucket, Key=self._key(key), Body=data, ContentType=content_type
        )

    def put_file(self, key: str, source: Path) -> None:
        self.put(key, Path(source).read_bytes(), content_type=_content_type(key))

    def get(self, key: str) -> bytes | None:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
        except self.client.exceptions.NoSuchKey:
            return None
        return answer["Body"].read()

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def exists(self, key: str) -> bool:
        return self.size(key) is not None

    def size(self, key: str) -> int | None:
        from botocore.exceptions import ClientError  # boto3 is optional: imported with it

        try:
            answer = self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if _error_code(exc) in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return int(answer["ContentLength"])

    def fetch(
        self, key: str, *, if_none_match: str | None = None, if_modified_since=None
    ) -> Fetched | None:
        """Return the object as a stream; asked with the reader's conditions, S3 itself answers
        "not modified" without sending the body."""
        from botocore.exceptions import ClientError

        conditions = {}
        if if_none_match:
            conditions["IfNoneMatch"] = if_none_match
        elif if_modified_since is not None:
            conditions["IfModifiedSince"] = if_modified_since
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._key(key), **conditions)
        except ClientError as exc:
            code = _error_code(exc)
            if code in ("404", "NoSuchKey", "NotFound"):
                return None
            if code == "304":
                # Its ETag is the one asked with, where a store's 304 leaves it out.
                headers = exc.response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
                etag = headers.get("etag") or if_none_match or ""
                return Fetched(None, 0, etag.strip('"'), None)
            raise
        return Fetched(
            answer["Body"],
            int(answer["ContentLength"]),
            answer["ETag"].strip('"'),
            answer.get("LastModified"),
        )

    def listing(self, *, prefix: str = "") -> Iterator[tuple[str, float]]:
        """Yield the key and modification time (seconds since the epoch) of each object whose key
        begins with ``prefix``."""
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix + prefix
        )
        for page in pages:
            for found in page.get("Contents", []):
                yield found["Key"][len(self.prefix) :], found["LastModified"].timestamp()

    def __repr__(self) -> str:
        return f"<S3Storage s3://{self.bucket}/{self.prefix}>"


def s3_client(endpoint_url: str | None = None):
    """Return a boto3 S3 client; endpoint and credentials from boto3's own variables."""
    try:
        import boto3  # optional, and slow to import: only for a bucket
    except ImportError:
        raise StorageError("S3 storage needs boto3: pip install 'openspaces[s3]'") from None
    return boto3.client("s3", endpoint_url=endpoint_url)


def _error_code(exc) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _content_type(key: str) -> str:
    return {".json": "application/json", ".png": "image/png"}.get(
        PurePosixPath(key).suffix, "image/jpeg"
    )


def storage_from_url(url: str, *, endpoint_url: str | None = None) -> Storage:
    """Return the store a URL names: ``s3://bucket/prefix`` or a folder path (``file://`` or plain)."""
    if url.startswith("s3://"):
        bucket, _, prefix = url[len("s3://") :].partition("/")
        if not bucket:
            raise StorageError(f"no bucket in {url!r}; write s3://BUCKET/PREFIX")
        return S3Storage(bucket=bucket, prefix=prefix, endpoint_url=endpoint_url)
    return FolderStorage(url.removeprefix("file://"))


@dataclass(frozen=True)
class Stores:
    """The instance's stores: sticky pictures, scan photos (with thumbnails and outlines), and
    the previews of photos waiting for an organizer to apply them."""

    pictures: Storage
    scans: Storage
    pending: Storage


def stores_for(*, url: str | None, picture_dir: str, upload_dir: str) -> Stores:
    """Return the stores the settings name (``STORAGE_URL``, ``PICTURE_DIR``, ``UPLOAD_DIR``).

    Made once per process and setting: a bucket's client takes a while to make.
    """
    # boto3 reads its endpoint when the client is made: a new one makes a new client.
    endpoint = os.environ.get("AWS_ENDPOINT_URL") if url else None
    return _stores(url or None, picture_dir, upload_dir, endpoint)


@functools.lru_cache(maxsize=16)
def _stores(url: str | None, picture_dir: str, upload_dir: str, endpoint: str | None) -> Stores:
    if url is None:
        return Stores(
            pictures=FolderStorage(picture_dir),
            scans=FolderStorage(Path(upload_dir) / "scans"),
            pending=FolderStorage(Path(upload_dir) / "pending"),
        )
    if not url.startswith("s3://"):
        root = Path(url.removeprefix("file://"))
        return Stores(
            pictures=FolderStorage(root / "pictures"),
            scans=FolderStorage(root / "scans"),
            pending=FolderStorage(root / "pending"),
        )
    bucket, _, prefix = url[len("s3://") :].partition("/")
    if not bucket:
        raise StorageError(f"no bucket in {url!r}; write s3://BUCKET/PREFIX")
    client = s3_client()
    prefix = prefix.strip("/")
    return Stores(
        pictures=S3Storage(bucket=bucket, prefix=f"{prefix}/pictures", client=client),
        scans=S3Storage(bucket=bucket, prefix=f"{prefix}/scans", client=client),
        pending=S3Storage(bucket=bucket, prefix=f"{prefix}/pending", client=client),
    )
