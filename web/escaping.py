"""The pages' `{{ … }}` escaped as markupsafe escapes them, without making a `Markup` object of every piece.

With autoescaping Jinja compiles each `{{ value }}` to `escape(value)`. Since MarkupSafe 3 that is a Python
function that escapes in C and then builds a `Markup` (a `str` subclass, through a Python `__new__`): about a
fifth of the agent screen's rendering went to building `Markup` objects that are only joined into the page
(docs/performance.md). A piece of output is yielded or appended to a buffer that Jinja wraps as `Markup` as a
whole, so it need not be `Markup` itself: `text` returns the same characters as a plain `str`.
"""

from __future__ import annotations

from typing import Any

from jinja2.compiler import CodeGenerator, Frame
from jinja2.nodes import Expr
from markupsafe import escape

try:  # MarkupSafe 3's C escaper behind escape(); without it escape() itself is used
    from markupsafe._speedups import _escape_inner
except ImportError:  # pragma: no cover - the pure-Python build of MarkupSafe
    _escape_inner = None


def _text(value: Any) -> str:
    """A piece of output as HTML: escaped unless it is markup already (what `escape` returns, as a str)."""
    if type(value) is str:  # the common case, as in escape()
        return _escape_inner(value)  # type: ignore[misc]
    html = getattr(value, "__html__", None)
    if html is not None:
        return html()  # type: ignore[no-any-return]
    return _escape_inner(str(value))  # type: ignore[misc]


text = escape if _escape_inner is None else _text


class PageCodeGenerator(CodeGenerator):
    """Jinja's code generator with `{{ value }}` compiled to `environment.html_text(value)` where it autoescapes."""

    def _output_child_pre(self, node: Expr, frame: Frame, finalize: Any) -> None:
        """Open the call around one `{{ … }}` (Jinja's own where autoescaping is decided at run time or off)."""
        if frame.eval_ctx.volatile or not frame.eval_ctx.autoescape:
            super()._output_child_pre(node, frame, finalize)
            return
        self.write("environment.html_text(")
        if finalize.src is not None:
            self.write(finalize.src)
