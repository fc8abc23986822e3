"""Deciding what a deploy does, from dist/, the bucket listing and the deploy record. Pure: no I/O.

The record (`Record`s in a small JSON object in the bucket) says which objects h5press put
there, with the digest and ETag each had. An object whose listed ETag still matches its record
is known to be current without asking the storage for it; only the others need a HEAD, which
reads the digest kept in the object's own metadata. Objects h5press did not put there are
never deleted.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field

from .local import GROUP_NAMES, LocalObject

RECORD_KEY = ".h5press-deploy.json"  # beside the bundles, under the target's prefix


@dataclass(frozen=True)
class Remote:
    """An object as the bucket listing shows it."""

    etag: str
    size: int


@dataclass(frozen=True)
class Record:
    digest: str
    etag: str
    hashed: bool


@dataclass
class DeployRecord:
    objects: dict[str, Record] = field(default_factory=dict)
    unreferenced: dict[str, str] = field(default_factory=dict)  # hashed key → ISO day it left the build
    purge: list[str] = field(default_factory=list)  # URLs whose purge has not succeeded yet

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, data: bytes) -> DeployRecord:
        raw = json.loads(data)
        return cls({k: Record(**v) for k, v in raw["objects"].items()}, raw["unreferenced"], raw["purge"])


@dataclass
class Plan:
    groups: list[list[LocalObject]]  # uploads, one list per group, run in this order
    unchanged: list[LocalObject]
    kept: dict[str, str]  # unreferenced hashed assets kept → since when
    delete: list[str]  # gone unhashed files and pruned hashed assets, after all uploads

    @property
    def uploads(self) -> list[LocalObject]:
        return [obj for group in self.groups for obj in group]


def known_digests(remote: dict[str, Remote], record: DeployRecord) -> dict[str, str]:
    """Digests of the listed objects whose ETag is the one recorded when h5press wrote them."""
    return {key: rec.digest for key, rec in record.objects.items() if key in remote and remote[key].etag == rec.etag}


def to_verify(local: list[LocalObject], remote: dict[str, Remote], known: dict[str, str]) -> list[str]:
    """Keys to HEAD: in the bucket, wanted by dist/, but not vouched for by the record (written by
    a deploy that failed half way, by hand, or the record is gone)."""
    return [obj.key for obj in local if obj.key in remote and obj.key not in known]


def make_plan(local: list[LocalObject], remote: dict[str, Remote], digests: dict[str, str], record: DeployRecord,
              today: dt.date, prune_days: int | None) -> Plan:
    """Upload what is missing or differs; keep unreferenced hashed assets (cached pages and old
    service workers still ask for them) unless unreferenced for `prune_days`; delete the rest
    h5press had put there."""
    plan = Plan([[] for _ in GROUP_NAMES], [], {}, [])
    for obj in local:
        if obj.key in remote and digests.get(obj.key) == obj.digest:
            plan.unchanged.append(obj)
        else:
            plan.groups[obj.group].append(obj)
    wanted = {obj.key for obj in local}
    for key, rec in sorted(record.objects.items()):
        if key in wanted or key not in remote:
            continue
        since = record.unreferenced.get(key, today.isoformat())
        if rec.hashed and (prune_days is None or (today - dt.date.fromisoformat(since)).days < prune_days):
            plan.kept[key] = since
        else:
            plan.delete.append(key)
    return plan


def purge_urls(keys: list[str], base_url: str | None) -> list[str]:
    """The URLs of changed or deleted revalidated files (pages, manifests, workers) a CDN may hold
    stale; a changed `x/index.html` also means `x/`. Hashed assets never change in place."""
    keys = keys + [key[: -len("index.html")] for key in keys if key.endswith("/index.html")]
    return [f"{base_url or ''}{key}" for key in sorted(set(keys))]


def next_record(old: DeployRecord, plan: Plan, remote: dict[str, Remote], written: dict[str, str],
                deleted: list[str], purge: list[str], finished: bool) -> DeployRecord:
    """The record after a deploy: what was written (key → ETag), what was deleted, and the
    unchanged objects found current by HEAD. A deploy that stopped half way keeps what the old
    record said about keeping and pruning: it decided nothing yet."""
    objects = {key: rec for key, rec in old.objects.items() if key in remote}
    objects.update({obj.key: Record(obj.digest, remote[obj.key].etag, obj.hashed) for obj in plan.unchanged})
    objects.update({obj.key: Record(obj.digest, written[obj.key], obj.hashed) for obj in plan.uploads if obj.key in written})
    for key in deleted:
        objects.pop(key, None)
    unreferenced = plan.kept if finished else old.unreferenced
    return DeployRecord(objects, dict(unreferenced), purge)
