"""`h5press new`: copy the starter project that ships inside the package."""
from __future__ import annotations

import shutil
from pathlib import Path

STARTER = Path(__file__).resolve().parent / "project"


def scaffold(directory: Path) -> list[Path]:
    """Copy the starter site into `directory`, which must be new or empty."""
    if directory.exists() and any(directory.iterdir()):
        raise FileExistsError(f"{directory} is not empty; choose a new folder")
    created = []
    for source in sorted(STARTER.rglob("*")):
        if source.is_dir() or source.name == "__pycache__":
            continue
        relpath = source.relative_to(STARTER)
        target = directory / (".gitignore" if relpath.name == "gitignore" else relpath)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        created.append(target)
    for empty in ("layouts", "assets"):
        (directory / empty).mkdir(exist_ok=True)
    return created
