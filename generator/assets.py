"""Stage 4, assets: SCSS → CSS, minified JS, images → WebP variants, icons; all content-hashed.

Every file this stage emits lives under `assets/` in its bundle with a content hash in its
name, which is what makes `Cache-Control: immutable` safe for that folder and nothing else.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from xml.etree import ElementTree

import PIL
from PIL import Image, ImageDraw, ImageOps

from .config import ImageOptions, Theme
from .contrast import FILLS, on_colour

THEME_DIR = Path(__file__).resolve().parent.parent  # the installed package: layouts/ and assets/


def content_hash(data: bytes, length: int = 10) -> str:
    return hashlib.sha256(data).hexdigest()[:length]


def integrity(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


@dataclass(frozen=True)
class Asset:
    """One hashed output file; `path` is relative to its bundle."""

    logical: str
    path: str
    data: bytes = field(repr=False)

    @functools.cached_property
    def integrity(self) -> str:  # asked for by every page that links the asset
        return integrity(self.data)


def hashed(logical: str, data: bytes, filename: str | None = None, folder: str = "assets") -> Asset:
    """`folder/stem.<hash>.ext` from `filename` (default: the logical name); spaces and
    URL-special characters in the stem become "-" (a space would split a srcset entry)."""
    name = PurePosixPath(filename or logical)
    stem = re.sub(r"[^\w.-]+", "-", name.stem).strip("-") or "file"
    return Asset(logical, f"{folder}/{stem}.{content_hash(data)}{name.suffix.lower()}", data)


def theme_file(root: Path, relpath: str) -> Path:
    """A project file overrides the theme file with the same relative path."""
    own = root / relpath
    return own if own.is_file() else THEME_DIR / relpath


# --- styles and scripts ----------------------------------------------------------------------

class ScssError(Exception):
    """A stylesheet that did not compile, with the overlay file and line libsass named."""

    def __init__(self, message: str, file: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.message, self.file, self.line = message, file, line


def compile_scss(entry: Path, include_paths: list[Path]) -> str:
    """The one place libsass is called (it is end-of-life; swapping compilers touches only this).

    libsass is optional (it has no wheel for Linux on ARM): the package's own styles come
    precompiled, so only a project's own SCSS needs it. libsass starts compressed output that
    holds non-ASCII text with a byte-order mark; the build joins stylesheets, where a mark in the
    middle would void the rule after it, so it goes."""
    try:
        import sass
    except ImportError:
        raise ScssError("your project's SCSS needs libsass, which is not installed (it has no wheel for this "
                        "platform): pip install libsass (builds it from source; needs a C++ compiler)") from None
    try:
        css = sass.compile(filename=str(entry), include_paths=[str(p) for p in include_paths], output_style="compressed")
    except sass.CompileError as exc:
        text = str(exc)
        where = re.search(r"on line (\d+):\d+ of (\S+)", text)
        file = Path(where.group(2)).resolve().relative_to(entry.parent.resolve()).as_posix() if where else None
        raise ScssError(text.splitlines()[0].removeprefix("Error: "), file, int(where.group(1)) if where else None) from None
    return str(css).lstrip("\ufeff")


def theme_variables(theme: Theme, elder: bool) -> str:
    """Campaign colours as CSS custom properties, so branding needs no SCSS, with the readable text
    shade on each colour used as a fill (`--h5-on-primary` …, see contrast.on_colour)."""
    colours = theme.model_dump()
    on = {f"on-{key}": on_colour(colours[key], colours["text"]) for key in FILLS}
    props = ";".join(f"--h5-{name}:{value}" for name, value in {**colours, **on}.items())
    return f":root{{{props}}}" + (":root{--h5-font:18px;--h5-tap:60px;--h5-min-text:18px}" if elder else "")


# --- images ----------------------------------------------------------------------------------

RASTER = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff"}


@dataclass(frozen=True)
class Variant:
    width: int
    height: int
    asset: Asset


@dataclass(frozen=True)
class ImageAsset:
    source: str  # campaign-relative
    width: int
    height: int
    variants: tuple[Variant, ...]

    @property
    def largest(self) -> Variant:
        return self.variants[-1]


class ImageProblem(ValueError):
    """An image that cannot be published as it is; the message says why."""


def _encode(data: bytes, options: ImageOptions) -> tuple[int, int, str, list[tuple[int, int, bytes]]]:
    """(width, height, suffix, [(w, h, bytes)]): WebP variants, or the original if animated."""
    try:
        opened = Image.open(io.BytesIO(data))
        opened.load()
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageProblem(f"not a readable image ({exc.__class__.__name__}); use JPEG, PNG, WebP, GIF or SVG") from None
    with opened:
        image = ImageOps.exif_transpose(opened)
        if getattr(opened, "is_animated", False):  # animation survives only in its own format
            suffix = "." + (opened.format or "gif").lower().replace("jpeg", "jpg")
            return image.width, image.height, suffix, [(image.width, image.height, data)]
        image = image.convert("RGBA" if "A" in image.getbands() or "transparency" in image.info else "RGB")
        out = []
        for width in sorted({min(w, image.width) for w in options.widths}):
            height = max(1, round(image.height * width / image.width))
            buf = io.BytesIO()
            image.resize((width, height), Image.Resampling.LANCZOS).save(buf, "WEBP", quality=options.quality, method=5)
            out.append((width, height, buf.getvalue()))
        return image.width, image.height, ".webp", out


_LENGTH = re.compile(r"\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(px)?\s*")


def svg_size(data: bytes) -> tuple[int, int]:
    """Intrinsic size of an SVG from its root's width/height (in px) or its viewBox."""
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        raise ImageProblem(f"not a well-formed SVG ({exc})") from None
    width, height = (_LENGTH.fullmatch(root.get(k, "")) for k in ("width", "height"))
    if width and height:
        return round(float(width.group(1))), round(float(height.group(1)))
    box = [float(v) for v in re.split(r"[\s,]+", root.get("viewBox", "").strip()) if v] if root.get("viewBox") else []
    if len(box) == 4 and box[2] > 0 and box[3] > 0:
        return round(box[2]), round(box[3])
    raise ImageProblem("SVG has no viewBox and no width/height in px on its root: its size, needed to reserve "
                       "space on the page, is unknown")


def process_image(source: str, data: bytes, options: ImageOptions, cache: Path | None) -> ImageAsset:
    """Resize a raster image to WebP widths (never upscaling); SVG is copied as it is.

    Encoding dominates build time, so results are cached on disk by content and options.
    """
    stem = PurePosixPath(source).stem
    if source.lower().endswith(".svg"):
        w, h = svg_size(data)
        return ImageAsset(source, w, h, (Variant(w, h, hashed(source, data, f"{stem}.svg")),))
    key = hashlib.sha256(data + repr((2, options.widths, options.quality, PIL.__version__)).encode()).hexdigest()
    meta_path = cache / f"{key}.json" if cache else None
    if meta_path and meta_path.is_file():
        meta = json.loads(meta_path.read_text())
        encoded = [(w, h, (cache / f"{key}-{w}.bin").read_bytes()) for w, h in meta["variants"]]  # type: ignore[operator]
        width, height = meta["size"]
        suffix = meta["suffix"]
    else:
        width, height, suffix, encoded = _encode(data, options)
        if meta_path and cache:
            cache.mkdir(parents=True, exist_ok=True)
            for w, _, blob in encoded:
                (cache / f"{key}-{w}.bin").write_bytes(blob)
            meta_path.write_text(json.dumps({"size": [width, height], "suffix": suffix,
                                             "variants": [[w, h] for w, h, _ in encoded]}))
    variants = tuple(Variant(w, h, hashed(f"{source}@{w}w", blob, f"{stem}-{w}{suffix}")) for w, h, blob in encoded)
    return ImageAsset(source, width, height, variants)


def is_image(path: str) -> bool:
    suffix = PurePosixPath(path).suffix.lower()
    return suffix in RASTER or suffix == ".svg"


def make_icon(size: int, theme: Theme, source: bytes | None) -> Asset:
    """A square PNG home-screen icon: the campaign's icon image, or a plain mark in its colours."""
    if source is not None:
        try:
            opened = Image.open(io.BytesIO(source))
            opened.load()
        except (OSError, SyntaxError, ValueError):
            raise ImageProblem("the icon must be a JPEG, PNG or WebP image (home screens need a bitmap)") from None
        with opened:
            image = ImageOps.fit(opened.convert("RGBA"), (size, size), Image.Resampling.LANCZOS)
    else:
        image = Image.new("RGBA", (size, size), theme.primary)
        draw = ImageDraw.Draw(image)
        pad = size // 4
        draw.ellipse((pad, pad, size - pad, size - pad), fill="#ffffff")
        inner = size * 3 // 8
        draw.ellipse((inner, inner, size - inner, size - inner), fill=theme.accent)
    buf = io.BytesIO()
    image.save(buf, "PNG", optimize=True)
    return hashed(f"icon-{size}.png", buf.getvalue())
