"""Screenshots: findings drawn on them, and pixel comparison with a stored baseline."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw

from .findings import Finding

COLOURS = {"error": (217, 48, 37), "warning": (242, 153, 0)}


def mark(shot: Path, boxes: Sequence[tuple[list[int], str]]) -> Path:
    """A copy of the screenshot with each finding's element outlined (red errors, amber warnings)."""
    with Image.open(shot) as image:
        marked = image.convert("RGB")
    draw = ImageDraw.Draw(marked)
    for (x, y, w, h), severity in boxes:
        draw.rectangle((x, y, x + max(w, 1), y + max(h, 1)), outline=COLOURS[severity], width=3)
    out = shot.with_suffix(".marked.jpg")
    marked.save(out, quality=80)
    return out


def compare(reference: Path, current: Path, threshold: float) -> tuple[Finding | None, Path | None]:
    """A finding (and a diff image) when more than `threshold` of the pixels changed."""
    with Image.open(reference) as a, Image.open(current) as b:
        old, new = a.convert("RGB"), b.convert("RGB")
    if old.size != new.size:
        return Finding("baseline", "error", f"screenshot size changed from {old.size[0]}×{old.size[1]} "
                                            f"to {new.size[0]}×{new.size[1]} CSS px"), None
    delta = ImageChops.difference(old, new).convert("L").point(lambda v: 255 if v > 16 else 0)
    changed = sum(delta.histogram()[255:])
    share = changed / (new.size[0] * new.size[1])
    if share <= threshold:
        return None, None
    x0, y0, x1, y1 = delta.getbbox() or (0, 0, 0, 0)
    overlay = Image.blend(new, Image.new("RGB", new.size, (255, 255, 255)), 0.6)
    overlay.paste((217, 48, 37), mask=delta)
    out = current.with_suffix(".diff.png")
    overlay.save(out)
    finding = Finding("baseline", "error", f"{share:.2%} of the pixels differ from the baseline, "
                                           f"in the area {x1 - x0}×{y1 - y0} at ({x0}, {y0})", box=[x0, y0, x1 - x0, y1 - y0])
    return finding, out
