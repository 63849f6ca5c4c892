"""Policy packs: TOML files read strictly, and the pack that applies to a debtor."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .engine import PolicyError, PolicyPack, combine

__all__ = ["DEFAULT_DIRECTORY", "DEFAULT_PACK", "KINDS", "PolicyError", "load_pack", "pack_for"]

DEFAULT_DIRECTORY = Path("config/policies")
DEFAULT_PACK = "nl-b2b"
KINDS = ("company", "person")

# resolved path → (mtime_ns, size, pack): an edited file is read again, an unchanged one is not
_cache: dict[Path, tuple[int, int, PolicyPack]] = {}


def load_pack(name_or_path: str | Path, directory: str | Path = DEFAULT_DIRECTORY) -> PolicyPack:
    """Load a pack by bare name (`directory/NAME.toml`) or by path to a .toml file."""
    path, bare = _path(name_or_path, Path(directory))
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise PolicyError(_missing(str(name_or_path), path, bare)) from None
    except OSError as exc:
        raise PolicyError(f"cannot read policy pack {path}: {exc.strerror}") from None
    key = path.resolve()
    cached = _cache.get(key)
    if cached is not None and cached[:2] == (stat.st_mtime_ns, stat.st_size):
        return cached[2]
    pack = _parse(path)
    _cache[key] = (stat.st_mtime_ns, stat.st_size, pack)
    return pack


def pack_for(*, country: str | None, region: str | None = None, kind: str, number_region: str | None = None,
             team_default: str | Path = DEFAULT_PACK, directory: str | Path = DEFAULT_DIRECTORY) -> PolicyPack:
    """The pack for a debtor: by address country (and region), made stricter by the number's region."""
    if kind not in KINDS:
        raise PolicyError(f"debtor kind {kind!r} is not one of {', '.join(KINDS)}")
    country = (country or "").upper() or None
    names = [_pack_name(country, region, kind) or team_default]
    number_region = (number_region or "").upper() or None
    if number_region is not None and number_region != country:
        # e.g. a Dutch address with a Belgian mobile: both laws may apply, so the stricter rule wins
        names.append(_pack_name(number_region, None, kind) or team_default)
    packs = [load_pack(name, directory) for name in dict.fromkeys(names)]
    return combine(packs)


def _pack_name(country: str | None, region: str | None, kind: str) -> str | None:
    if country == "NL":
        # the Wki protects natural persons, sole traders included; companies get the team's B2B rules
        # (`[team] policy`, nl-b2b unless the team chose its own pack)
        return "nl-wki" if kind == "person" else None
    if country == "BE":
        return "be"
    if country == "US":
        return "us-ma" if (region or "").upper().removeprefix("US-") == "MA" else "us-regf"
    return None


def _path(name_or_path: str | Path, directory: Path) -> tuple[Path, bool]:
    """The file to read, and whether it was named by a bare pack name."""
    text = str(name_or_path)
    if isinstance(name_or_path, Path) or text.endswith(".toml") or "/" in text or "\\" in text:
        return Path(name_or_path), False
    if not text.strip():
        raise PolicyError("no policy pack named: give a pack name such as 'nl-b2b' or a path to a .toml file")
    return directory / f"{text}.toml", True


def _missing(name: str, path: Path, bare: bool) -> str:
    if not bare:
        return f"no policy pack at {path}: the file does not exist"
    available = ", ".join(sorted(p.stem for p in path.parent.glob("*.toml"))) or "none"
    return f"no policy pack {name!r}: {path} does not exist (available: {available})"


def _parse(path: Path) -> PolicyPack:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"cannot read policy pack {path}: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(_one_line(f"{path}: not valid TOML: {exc}")) from None
    data.setdefault("name", path.stem)
    try:
        pack = PolicyPack.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(_one_line(f"{path}: " + "; ".join(_describe(e) for e in exc.errors()))) from None
    window = pack.window
    if not window.days:
        raise PolicyError(f"{path}: [window] days: empty, so calls are never allowed")
    if window.start >= window.end:
        raise PolicyError(f"{path}: [window] end: {window.end:%H:%M} is not after start {window.start:%H:%M}")
    return pack


def _describe(error: Any) -> str:
    loc = [str(part) for part in error["loc"]]
    if error["type"] == "extra_forbidden" and isinstance(error["input"], dict):
        return f"[{'.'.join(loc)}]: unknown section"
    where = f"[{loc[0]}] {'.'.join(loc[1:])}" if len(loc) > 1 else loc[0] if loc else "pack"
    if error["type"] == "extra_forbidden":
        return f"{where}: unknown key"
    if error["type"] == "missing":
        return f"{where}: missing (required)"
    return f"{where}: {str(error['msg']).removeprefix('Value error, ')}"


def _one_line(message: str) -> str:
    return message.replace("\r", " ").replace("\n", " ")
