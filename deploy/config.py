"""The `deploy:` section of `h5press.yaml`: where `h5press deploy` publishes dist/.

It lives with the deploy package, apart from the authoring contract, and imports only the
schema base so `SiteConfig` can hold it without loading boto3.
"""
from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from ..generator.schema import Strict


def _endpoint(value: str) -> str:
    if not re.match(r"^https?://[^/\s]+/?$", value):
        raise ValueError(f'expected an http(s) URL with no path, like "https://oss-cn-hangzhou.aliyuncs.com", got "{value}"')
    return value.rstrip("/")


S3_URL = re.compile(r"s3://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(/.*)?")


def s3_url(value: str) -> str:
    """`s3://bucket/prefix`, the prefix normalised to "" or "a/b/" (keys are prefix + dist path)."""
    found = S3_URL.fullmatch(value)
    if not found:
        raise ValueError(f'expected s3://bucket/prefix (a bucket name of 3-63 lowercase letters, digits, "." and "-"), '
                         f'got "{value}"')
    prefix = (found.group(2) or "").strip("/")
    return f"s3://{found.group(1)}/{prefix + '/' if prefix else ''}"


Endpoint = Annotated[str, AfterValidator(_endpoint)]
S3Url = Annotated[str, AfterValidator(s3_url)]


class DeployTarget(Strict):
    """Where `h5press deploy` publishes dist/. Credentials never live here: boto3 finds them
    (environment, profile, instance role)."""

    name: str = Field(min_length=1, description="what --to calls it; names are unique")
    url: S3Url = Field(description="s3://bucket/prefix; object keys are the prefix + the path in dist/")
    endpoint: Endpoint | None = Field(None, description="the storage's S3 endpoint (--endpoint-url overrides it); none: AWS S3")
    region: str | None = Field(None, description="signing region, e.g. cn-hangzhou; none: boto3's")
    addressing: Literal["virtual", "path"] = Field("virtual", description="virtual: bucket.endpoint/key (OSS and COS "
                                                                          "accept only this); path: endpoint/bucket/key "
                                                                          "(MinIO, test servers)")
    encoding: Literal["gzip", "br", "none"] = Field("gzip", description=(
        "Content-Encoding of text objects, uploaded from the build's .gz or .br file; every client gets it: "
        "gzip suits every phone browser, br only HTTPS, none uploads plain text"))
    purge: str | None = Field(None, description=(
        "shell command run in the project folder after a successful deploy, the changed revalidated URLs on stdin, "
        "one per line, for the CDN's refresh API"))

    @property
    def bucket(self) -> str:
        return self.url[len("s3://"):].split("/", 1)[0]

    @property
    def prefix(self) -> str:
        return self.url[len("s3://"):].split("/", 1)[1]
