"""`h5press deploy`: resolve the target, plan against the bucket, upload group by group, delete,
record, purge, summarise."""
from __future__ import annotations

import datetime as dt
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TypeVar

import click

from ..generator.config import SiteConfig
from .config import DeployTarget, s3_url
from .local import GROUP_NAMES, DistError, LocalObject, cdn_rules, read_rules, scan
from .plan import RECORD_KEY, DeployRecord, Plan, Remote, known_digests, make_plan, next_record, purge_urls, to_verify
from .storage import Bucket, StorageError

R = TypeVar("R")
PURGE_FAILED = 3  # exit status: everything is deployed, but the CDN may serve stale pages


@dataclass
class DeployOptions:
    target: DeployTarget
    endpoint: str | None
    dry_run: bool
    workers: int
    prune_days: int | None
    progress: Callable[[int, int], None] = lambda done, total: None  # told of every object done


def resolve_target(config: SiteConfig, to: str | None) -> DeployTarget:
    """`--to` as a target name or an s3:// URL; without it, the only target in h5press.yaml."""
    names = [t.name for t in config.deploy]
    listed = f"h5press.yaml has {len(names)} deploy targets ({', '.join(names)})" if names else "h5press.yaml has no deploy:"
    if to and to.startswith("s3://"):
        try:
            return DeployTarget(name=to, url=s3_url(to))
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--to") from None
    if to:
        found = next((t for t in config.deploy if t.name == to), None)
        if found is None:
            raise click.BadParameter(f'no deploy target named "{to}": {listed}; or pass s3://bucket/prefix', param_hint="--to")
        return found
    if len(config.deploy) != 1:
        raise click.UsageError(f"{listed}: pass --to NAME or --to s3://bucket/prefix")
    return config.deploy[0]


def parallel(jobs: dict[str, Callable[[], R]], workers: int,
             tick: Callable[[], None]) -> tuple[dict[str, R], StorageError | None]:
    """Run `jobs` on `workers` threads; at the first failure start no more and return what
    finished with that failure, so the caller stops before its next group."""
    failure: StorageError | None = None
    with ThreadPoolExecutor(workers) as pool:
        futures = {pool.submit(job): key for key, job in jobs.items()}
        for future in as_completed(futures):
            exc = future.exception()
            if isinstance(exc, StorageError):
                failure = exc
                pool.shutdown(wait=True, cancel_futures=True)
                break
            if exc is not None:
                raise exc
            tick()
    finished = {futures[f]: f.result() for f in futures if f.done() and not f.cancelled() and f.exception() is None}
    return finished, failure


def size(n: float) -> str:
    if n < 1024:
        return f"{int(n)} B"
    return f"{n / 1024:.1f} KB" if n < 1024 * 1024 else f"{n / 1024 / 1024:.1f} MB"


def describe_plan(plan: Plan, remote: dict[str, Remote], where: str, dry_run: bool) -> list[str]:
    """Counts and bytes of what will be uploaded, kept and deleted (deletions by name)."""
    uploads = plan.uploads
    groups = ", ".join(f"{name} {len(g)}" for name, g in zip(GROUP_NAMES, plan.groups, strict=True) if g)
    kept = sum(remote[k].size for k in plan.kept)
    lines = [f"plan for {where}{' (dry run: nothing is changed)' if dry_run else ''}:",
             f"  upload {len(uploads):6} objects {size(sum(o.size for o in uploads)):>10}" + (f"  ({groups})" if groups else ""),
             f"  keep   {len(plan.unchanged):6} objects {size(sum(o.size for o in plan.unchanged)):>10}  unchanged"]
    if plan.kept:
        lines.append(f"  keep   {len(plan.kept):6} objects {size(kept):>10}  hashed assets the build no longer references "
                     f"(since {min(plan.kept.values())} at the earliest; --prune-older-than DAYS removes them)")
    lines.append(f"  delete {len(plan.delete):6} objects {size(sum(remote[k].size for k in plan.delete)):>10}")
    return lines + [f"    - {key}" for key in plan.delete if dry_run]


def execute(bucket: Bucket, plan: Plan, workers: int,
            progress: Callable[[int, int], None]) -> tuple[dict[str, str], list[str], StorageError | None]:
    """Upload group by group, then delete; stop at a failure. ETags written, keys deleted, failure."""
    total, count = len(plan.uploads) + len(plan.delete), 0

    def tick() -> None:
        nonlocal count
        count += 1
        progress(count, total)

    written: dict[str, str] = {}
    for objects in plan.groups:
        done, failure = parallel({o.key: partial(bucket.put, o) for o in objects}, workers, tick)
        written.update(done)
        if failure:
            return written, [], failure
    deleted, failure = parallel({k: partial(bucket.delete, k) for k in plan.delete}, workers, tick)
    return written, sorted(deleted), failure


def run_purge(command: str, urls: list[str], cwd: Path) -> bool:
    """The target's purge command, through the shell, with one URL a line on stdin."""
    click.echo(f"purging {len(urls)} URL(s): {command}", err=True)
    status = subprocess.run(command, shell=True, input="".join(f"{u}\n" for u in urls), text=True, cwd=cwd).returncode
    if status:
        click.secho(f"error: the purge command failed (exit {status}); the CDN may serve stale copies of {len(urls)} "
                    "URL(s); the next deploy purges them again", fg="red", err=True)
    return status == 0


def verified_digests(bucket: Bucket, local: list[LocalObject], remote: dict[str, Remote], record: DeployRecord,
                     workers: int) -> dict[str, str]:
    """Digests of the listed objects: from the record where it vouches for them, else by HEAD."""
    known = known_digests(remote, record)
    found, failure = parallel({k: partial(bucket.stored_digest, k) for k in to_verify(local, remote, known)}, workers,
                              lambda: None)
    if failure:
        raise click.ClickException(str(failure))
    return {**known, **{k: d for k, d in found.items() if d}}


def deploy(project: Path, dist: Path, config: SiteConfig, options: DeployOptions) -> int:
    """Deploy and return the exit status (0, or PURGE_FAILED); failures raise ClickException."""
    started, target = time.perf_counter(), options.target
    try:
        rules = read_rules(dist)
        local = scan(dist, rules, target.encoding)
    except DistError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        bucket = Bucket(target, options.endpoint, options.workers)
        remote = bucket.listing()
        record = bucket.read_record(remote.pop(RECORD_KEY, None) is not None)
    except StorageError as exc:
        raise click.ClickException(str(exc)) from None
    digests = verified_digests(bucket, local, remote, record, options.workers)
    plan = make_plan(local, remote, digests, record, dt.date.today(), options.prune_days)
    click.echo("\n".join(describe_plan(plan, remote, bucket.where(), options.dry_run)))
    status = 0 if options.dry_run else publish(project, bucket, plan, remote, record, config, options)
    if not options.dry_run:
        seconds = time.perf_counter() - started
        click.echo(f"deployed {len(plan.uploads)} object(s) ({size(sum(o.size for o in plan.uploads))}) to {bucket.where()} "
                   f"in {seconds:.2f}s: {len(plan.unchanged)} unchanged, {len(plan.delete)} deleted, {len(plan.kept)} "
                   f"unreferenced hashed asset(s) kept")
    click.echo("CDN response headers (object storage cannot set these per object; add them as CDN rules):")
    click.echo("\n".join(f"  {line}" for line in cdn_rules(rules, target.prefix)))
    return status


def publish(project: Path, bucket: Bucket, plan: Plan, remote: dict[str, Remote], record: DeployRecord,
            config: SiteConfig, options: DeployOptions) -> int:
    """Carry the plan out, purge, then update the record; a failure raises after recording what
    was done, so the next run finishes the job."""
    written, deleted, failure = execute(bucket, plan, options.workers, options.progress)
    changed = [o.key for o in plan.uploads if not o.hashed and o.key in written] + deleted
    pending = sorted(set(record.purge) | set(purge_urls(changed, config.base_url))) if options.target.purge else []
    status = 0
    if not failure and pending:
        status = 0 if run_purge(options.target.purge or "", pending, project) else PURGE_FAILED
    left = pending if failure or status else []
    try:
        after = next_record(record, plan, remote, written, deleted, left, failure is None)
        if after != record:  # a deploy that changed nothing writes nothing
            bucket.write_record(after)
    except StorageError as exc:
        failure = failure or exc
    if failure:
        raise click.ClickException(f"{failure}\nthe deploy stopped before its next step: run it again to finish")
    return status
