"""Phone profiles as data: the built-in YAML, extended or overridden by `check.profiles`."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import TypeAdapter

from .config import CheckConfig, Profile

BUILTIN = Path(__file__).resolve().parent / "profiles.yaml"


@dataclass(frozen=True)
class Device:
    """A resolved profile: Playwright context options plus what the checks need to know."""

    name: str
    options: dict[str, Any]
    android: bool
    low_end: bool
    service_workers: bool
    webkit_capable: bool  # an iPhone profile, which --engine webkit runs on WebKit

    @property
    def tap_min(self) -> int:
        return 48 if self.android else 44


def builtin_profiles() -> list[Profile]:
    return TypeAdapter(list[Profile]).validate_python(yaml.safe_load(BUILTIN.read_text("utf-8")))


def all_profiles(config: CheckConfig) -> dict[str, Profile]:
    profiles = {p.name: p for p in builtin_profiles()}
    profiles.update({p.name: p for p in config.profiles})
    return profiles


def default_names(config: CheckConfig) -> list[str]:
    return config.devices or [p.name for p in builtin_profiles()]


def select(config: CheckConfig, wanted: list[str] | None) -> list[Profile]:
    """Profiles by name (case-insensitive); an unknown name raises ValueError listing the known ones."""
    profiles = all_profiles(config)
    by_key = {name.lower(): p for name, p in profiles.items()}
    chosen = []
    for name in wanted or default_names(config):
        profile = by_key.get(name.strip().lower())
        if profile is None:
            raise ValueError(f'unknown device "{name}"; profiles: {", ".join(profiles)}')
        chosen.append(profile)
    return chosen


def resolve(profile: Profile, descriptors: dict[str, dict[str, Any]]) -> Device:
    """Merge a profile over its Playwright descriptor into context options."""
    if profile.device and profile.device not in descriptors:
        raise ValueError(f'profile "{profile.name}": Playwright has no device "{profile.device}"')
    options = {k: v for k, v in (descriptors.get(profile.device or "", {})).items() if k != "default_browser_type"}
    for key in ("device_scale_factor", "user_agent", "is_mobile", "has_touch"):
        value = getattr(profile, key)
        if value is not None:
            options[key] = value
    if profile.viewport:
        options["viewport"] = profile.viewport.model_dump()
        options.setdefault("screen", profile.viewport.model_dump())
    options.setdefault("viewport", {"width": 375, "height": 667})
    options["service_workers"] = profile.service_workers
    agent = options.get("user_agent", "")
    android = profile.android if profile.android is not None else "Android" in agent
    webkit = "iPhone" in agent or (descriptors.get(profile.device or "", {}).get("default_browser_type") == "webkit")
    return Device(profile.name, options, android, profile.low_end, profile.service_workers == "allow", webkit)
