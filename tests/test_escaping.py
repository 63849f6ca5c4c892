"""The pages' output escaping gives the characters markupsafe's escape gives, in every kind of template block."""

from __future__ import annotations

from typing import Any

import jinja2
import pytest
from markupsafe import Markup, escape

from web import escaping, render


class Shown:
    """An object with its own HTML."""

    def __html__(self) -> str:
        return "<em>shown</em>"


class Plain:
    """An object without HTML, shown through str()."""

    def __str__(self) -> str:
        return "a<b & 'c' \"d\""


VALUES = ["", "plain", "<script>alert('x')</script>", "a & b \"c\" 'd' > e", "é ü ☎ €", Markup("<b>ok</b>"),
          Shown(), Plain(), 0, 42, -1.5, None, True, ["<li>"]]


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_a_piece_is_escaped_exactly_as_markupsafe_escapes_it(value: Any) -> None:
    assert escaping.text(value) == str(escape(value))


TEMPLATE = """<p title="{{ a }}">{{ a }}{{ b }}{{ m }}{{ a|safe }}{{ a|e }}{{ a ~ b }}</p>
{% set block %}<i>{{ a }}</i>{% endset %}{{ block }}
{% macro item(v) %}<li>{{ v }}</li>{% endmacro %}<ul>{% for v in [a, m, b] %}{{ item(v) }}{% endfor %}</ul>
{% macro wrap() %}<div>{{ caller() }}</div>{% endmacro %}{% call wrap() %}{{ a }}{% endcall %}{% filter upper %}{{ a }}{% endfilter %}
{% autoescape false %}{{ a }}{% endautoescape %}{% autoescape true %}{{ a }}{% endautoescape %}
{{ "<const>" }}{{ none }}{{ [a]|join(", ") }}{{ {"k": a}|tojson }}"""


def test_templates_render_as_with_jinjas_own_escaping() -> None:
    options = {"autoescape": True, "undefined": jinja2.StrictUndefined}
    context = {"a": "<x & 'y'>", "b": 7, "m": Markup("<b>ok</b>")}
    plain = jinja2.Environment(**options).from_string(TEMPLATE).render(**context)
    page = render.PageEnvironment(None, **options).from_string(TEMPLATE).render(**context)
    assert page == plain
    assert "&lt;x &amp; &#39;y&#39;&gt;" in page and "<b>ok</b>" in page  # escaped once, markup kept


def test_the_page_environment_compiles_output_to_its_own_escaper() -> None:
    source = render.PageEnvironment(None, autoescape=True).compile("{{ a }}", raw=True)
    assert "environment.html_text(" in source and "escape(" not in source
