"""Where photos and sticky pictures are kept: a folder (the instance's, by default) or an S3 bucket.

Keys are relative, slash-separated names such as ``scans/12-ab34cd56.jpg`` or ``3/7KQ2XM-…jpg``.
Every backend stores a value whole or not at all: a reader never sees half a file.

- ``FolderStorage(root)``: files under ``root``; the default, with the instance folder's
  ``uploads/`` and ``pictures/`` as roots.
- ``S3Storage(bucket=…, prefix=…)``: any S3-compatible store (AWS, MinIO, Garage, Ceph); needs
  ``boto3`` (``pip install 'openspaces[s3]'``). Credentials and region come from boto3's usual
  places (environment, ``~/.aws``); ``endpoint_url`` names a store other than AWS.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path, PurePosixPath
from typing import Protocol

from app.services import ServiceError


class StorageError(ServiceError):
    """A key that cannot name a stored file, or a store that refused a write."""


def check_key(key: str) -> str:
    """Return ``key`` when it is a relative name without ``..``; raise StorageError otherwise."""
    path = PurePosixPath(key)
    if not key or path.is_absolute() or ".." in path.parts or "\\" in key or "\x00" in key:
        raise StorageError(f"not a storage key: {key!r}")
    return key


class Storage(Protocol):
    def put(self, key: str, data: bytes, *, content_type: str = "image/jpeg") -> None: ...

    def get(self, key: str) -> bytes | None: ...

    def delete(self, key: str) -> None: ...

    def exists(self, key: str) -> bool: ...


class FolderStorage:
    """Files under a folder; a write goes to a ``.part`` file first and is renamed into place."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        """Return the file that holds ``key`` (it may not exist)."""
        return self.root / check_key(key)

    def put(self, key: str, data: bytes, *, content_type: str = "image/jpeg") -> None:
        target = self.path(key)
        part = target.with_name(f"{target.name}.{secrets.token_hex(4)}.part")
        try:
            part.write_bytes(data)
        except FileNotFoundError:  # the first file of its folder
            target.parent.mkdir(parents=True, exist_ok=True)
            part.write_bytes(data)
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

    def __repr__(self) -> str:
        return f"<FolderStorage {self.root}>"


class S3Storage:
    """Objects in an S3-compatible bucket under ``prefix``; one PUT stores an object whole."""

    def __init__(
        self, *, bucket: str, prefix: str = "", endpoint_url: str | None = None, client=None
    ) -> None:
        if client is None:
            try:
                import boto3
            except ImportError:
                raise StorageError("S3 storage needs boto3: pip install 'openspaces[s3]'") from None
            client = boto3.client("s3", endpoint_url=endpoint_url)
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    def _key(self, key: str) -> str:
        return self.prefix + check_key(key)

    def put(self, key: str, data: bytes, *, content_type: str = "image/jpeg") -> None:
        self.client.put_object(
            Bucket=self.bucket, Key=self._key(key), Body=data, ContentType=content_type
        )

    def get(self, key: str) -> bytes | None:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
        except self.client.exceptions.NoSuchKey:
            return None
        return answer["Body"].read()

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def __repr__(self) -> str:
        return f"<S3Storage s3://{self.bucket}/{self.prefix}>"


def storage_from_url(url: str, *, endpoint_url: str | None = None) -> Storage:
    """Return the store a URL names: ``s3://bucket/prefix`` or a folder path (``file://`` or plain)."""
    if url.startswith("s3://"):
        bucket, _, prefix = url[len("s3://") :].partition("/")
        if not bucket:
            raise StorageError(f"no bucket in {url!r}; write s3://BUCKET/PREFIX")
        return S3Storage(bucket=bucket, prefix=prefix, endpoint_url=endpoint_url)
    return FolderStorage(url.removeprefix("file://"))
