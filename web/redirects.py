"""Where a redirect may go back to: a path on this site, never another site however the target is disguised."""

from __future__ import annotations

import unicodedata
from urllib.parse import quote, unquote, urlsplit

HOME = "/"
# Control, format and separator characters: browsers drop or rewrite them (`/\t/x` is read as `//x`).
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp", "Cs"})


def _clean(text: str) -> bool:
    return "\\" not in text and not any(unicodedata.category(ch) in _UNSAFE_CATEGORIES for ch in text)


def local_path(target: object, default: str = HOME) -> str:
    """`target` if it is a plain path on this site (`/dossiers?q=x`), else `default`.

    Refused: anything not starting with a single `/`, a scheme or authority (`//x`, `https://x`), backslashes,
    control characters and whitespace, also where percent-escapes hide them (`/%09/x`, `/%5cx`).
    """
    if not isinstance(target, str) or not target.startswith("/") or len(target) > 2000 or not _clean(target):
        return default
    parts = urlsplit(target)
    if target.startswith("//") or parts.scheme or parts.netloc:
        return default
    path = parts.path
    for _ in range(3):  # a doubly escaped `%2509` is still a tab to some proxy on the way
        path, before = unquote(path), path
        if not _clean(path) or path.startswith("//"):
            return default
        if path == before:
            break
    return quote(target, safe="/?&=#%:@!$'()*+,;~-._[]")  # non-ASCII escaped: a header carries ASCII only
