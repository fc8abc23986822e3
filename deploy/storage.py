"""The S3 API at the edge: boto3 calls, and their failures turned into one readable line.

Works with any S3-compatible storage (Aliyun OSS, Tencent COS, Huawei OBS, AWS S3, MinIO).
"""
from __future__ import annotations

import os
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from .config import DeployTarget
from .local import LocalObject
from .plan import RECORD_KEY, DeployRecord, Remote

DIGEST_META = "h5press-digest"  # sent as x-amz-meta-h5press-digest
ATTEMPTS = 5  # per request, with botocore's exponential backoff on throttling, 5xx and dropped connections
PARAMS = {"Content-Type": "ContentType", "Cache-Control": "CacheControl", "Content-Encoding": "ContentEncoding"}


class StorageError(Exception):
    """A request the storage refused or did not answer, retries spent: names the object and the answer."""


def client_config(target: DeployTarget, workers: int) -> Config:
    """Retries in botocore's standard mode (`AWS_MAX_ATTEMPTS` overrides the count). Checksums
    only where the API requires them: since boto3 1.36 it adds CRC32 trailers by default, which
    several S3-compatible services refuse."""
    retries: dict[str, Any] = {"mode": "standard"}
    if "AWS_MAX_ATTEMPTS" not in os.environ:
        retries["max_attempts"] = ATTEMPTS
    return Config(s3={"addressing_style": target.addressing}, retries=retries, max_pool_connections=workers,
                  request_checksum_calculation="when_required", response_checksum_validation="when_required")


def describe_error(exc: Exception) -> str:
    """The storage's own answer (code, HTTP status, message), or what kept it from answering."""
    if isinstance(exc, NoCredentialsError):
        return ("no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE "
                "(boto3's usual chain; h5press.yaml never holds them)")
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "?")
        return f"{error.get('Code', 'error')} (HTTP {status}): {error.get('Message') or 'no message'}"
    return f"{type(exc).__name__}: {exc}"


class Bucket:
    """The target's bucket, seen through its prefix: keys here are paths in dist/."""

    def __init__(self, target: DeployTarget, endpoint: str | None, workers: int) -> None:
        self.bucket, self.prefix = target.bucket, target.prefix
        try:
            self.client = boto3.session.Session().client("s3", endpoint_url=endpoint or target.endpoint,
                                                         region_name=target.region, config=client_config(target, workers))
        except (BotoCoreError, ValueError) as exc:  # a malformed endpoint or region
            raise StorageError(f"{self.where()}: {describe_error(exc)}") from None

    def _call(self, what: str, method: str, **kwargs: Any) -> Any:
        try:
            return getattr(self.client, method)(Bucket=self.bucket, **kwargs)
        except (BotoCoreError, ClientError) as exc:
            raise StorageError(f"{what}: {describe_error(exc)}") from None

    def where(self, key: str = "") -> str:
        return f"s3://{self.bucket}/{self.prefix}{key}"

    def listing(self) -> dict[str, Remote]:
        """Every object under the prefix, by key relative to the prefix (the record's too)."""
        found: dict[str, Remote] = {}
        token: dict[str, str] = {}
        while True:
            page = self._call(f"listing {self.where()}", "list_objects_v2", Prefix=self.prefix, **token)
            for item in page.get("Contents", []):
                found[item["Key"][len(self.prefix):]] = Remote(item["ETag"], item["Size"])
            if not page.get("IsTruncated"):
                return found
            token = {"ContinuationToken": page["NextContinuationToken"]}

    def stored_digest(self, key: str) -> str | None:
        head = self._call(f"reading {self.where(key)}", "head_object", Key=self.prefix + key)
        return head.get("Metadata", {}).get(DIGEST_META)

    def put(self, obj: LocalObject) -> str:
        """Upload one object with its headers and digest; its ETag."""
        extra = {PARAMS[name]: value for name, value in obj.headers.items()}
        answer = self._call(f"uploading {self.where(obj.key)}", "put_object", Key=self.prefix + obj.key,
                            Body=obj.source.read_bytes(), Metadata={DIGEST_META: obj.digest}, **extra)
        return str(answer["ETag"])

    def delete(self, key: str) -> None:
        """One by one: DeleteObjects needs a Content-MD5 some services insist on and boto3 no longer sends."""
        self._call(f"deleting {self.where(key)}", "delete_object", Key=self.prefix + key)

    def read_record(self, listed: bool) -> DeployRecord:
        """The record of the last deploy (`listed`: the listing showed one); empty when there is
        none or it cannot be read, and then every object is verified by HEAD instead."""
        if not listed:
            return DeployRecord()
        answer = self._call(f"reading {self.where(RECORD_KEY)}", "get_object", Key=self.prefix + RECORD_KEY)
        try:
            return DeployRecord.from_json(answer["Body"].read())
        except (ValueError, KeyError, TypeError):
            return DeployRecord()

    def write_record(self, record: DeployRecord) -> None:
        self._call(f"uploading {self.where(RECORD_KEY)}", "put_object", Key=self.prefix + RECORD_KEY,
                   Body=record.to_json(), ContentType="application/json", CacheControl="no-store")
