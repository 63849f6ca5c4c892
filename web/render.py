"""Jinja2 for the pages: i18n extension bound to the request's language, filters for money and dates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web
from markupsafe import Markup

from . import i18n
from .keys import CONFIG, CSRF, USER

TEMPLATES = Path(__file__).resolve().parent / "templates"


def _tojson_attr(value: Any) -> Markup:
    return Markup(json.dumps(value, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")
                  .replace("&", "\\u0026"))


def _context(request: web.Request) -> dict[str, Any]:
    cfg = request.app[CONFIG]
    return {"user": request.get(USER), "csrf_token": request.get(CSRF) or "", "lang": i18n.current_language.get(),
            "team": cfg.team, "request": request}


def setup(app: web.Application) -> None:
    """Install the template environment on the app."""
    env = aiohttp_jinja2.setup(
        app, loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=jinja2.select_autoescape(("html",)),
        extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True,
        undefined=jinja2.StrictUndefined)
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals["static"] = lambda name: str(app.router["static"].url_for(filename=name))
    env.filters.update(money=i18n.money, day=i18n.day, moment=i18n.moment, number=i18n.number,
                       script_json=_tojson_attr)


def render(template: str, request: web.Request, context: dict[str, Any], *, status: int = 200) -> web.Response:
    """Render a page."""
    return aiohttp_jinja2.render_template(template, request, {**_context(request), **context}, status=status)
