"""Jinja2 for the pages: one environment with the i18n extension, filters for money and dates."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web
from markupsafe import Markup

from . import i18n
from .keys import CONFIG, CSRF, DEMO, USER

TEMPLATES = Path(__file__).resolve().parent / "templates"


def script_json(value: Any) -> Markup:
    """JSON safe inside a <script type="application/json"> element (<, > and & as \\u escapes), not in attributes."""
    return Markup(json.dumps(value, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")
                  .replace("&", "\\u0026"))


class StaticUrls:
    """static(name): the file's URL with its version; aiohttp reads and hashes the whole file on every url_for."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.known: dict[str, tuple[str, tuple[int, int], str]] = {}  # name → (path, stamp, URL)

    def __call__(self, name: str) -> str:
        hit = self.known.get(name)
        path = hit[0] if hit is not None else os.fspath(self.app.router["static"].get_info()["directory"] / name)
        try:
            info = os.stat(path)
        except OSError:
            return self._url(name)
        stamp = (info.st_mtime_ns, info.st_size)  # a changed file gets its new version
        if hit is None or hit[1] != stamp:
            hit = self.known[name] = (path, stamp, self._url(name))
        return hit[2]

    def _url(self, name: str) -> str:
        return str(self.app.router["static"].url_for(filename=name))


_DICT_ATTRIBUTES = frozenset(dir(dict))


class PageEnvironment(jinja2.Environment):
    """The pages' environment: Jinja's own, with a dict's keys found without a failed getattr first."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        """What Jinja does (an attribute first, then the item), with the item first when no attribute can exist."""
        # The views hand the templates plain dicts; Jinja tries getattr() first and pays an AttributeError for
        # each of the ~350 `x.key` of the agent screen. A dict has no attributes beyond dict's own.
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)


def _context(request: web.Request) -> dict[str, Any]:
    cfg = request.app[CONFIG]
    return {"user": request.get(USER), "csrf_token": request.get(CSRF) or "", "lang": i18n.current_language.get(),
            "team": cfg.team, "request": request, "demo": DEMO in request.app}


def setup(app: web.Application) -> None:
    """Install the pages' template environment on the app, where aiohttp_jinja2 looks for it."""
    # Templates are compiled once per process (no reload check per render): restart to see a changed one.
    env = PageEnvironment(loader=jinja2.FileSystemLoader(str(TEMPLATES)),
                          autoescape=jinja2.select_autoescape(("html",)), trim_blocks=True, lstrip_blocks=True,
                          undefined=jinja2.StrictUndefined, auto_reload=False,
                          extensions=["jinja2.ext.i18n"])
    env.install_gettext_callables(i18n.page_gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(aiohttp_jinja2.GLOBAL_HELPERS)
    env.globals.update(app=app, static=StaticUrls(app))
    env.filters.update(money=i18n.money, day=i18n.day, moment=i18n.moment, number=i18n.number,
                       script_json=script_json)
    app[aiohttp_jinja2.APP_KEY] = env


def render(template: str, request: web.Request, context: dict[str, Any], *, status: int = 200) -> web.Response:
    """Render a page in the request's language."""
    return aiohttp_jinja2.render_template(template, request, {**_context(request), **context}, status=status)
