"""Templates translated when they are compiled: one Jinja environment per language, constant `_()` folded in.

A page of the agent screen calls `_()` about 140 times. Jinja's i18n extension makes each call look up the
catalog through the template context and, inside a block or loop, copy that context first; that was a third
of the page's rendering time. The catalogs are read once at start and never change, so in an environment made
for one language `_("literal")` is the same text on every request: it is translated once, when the template
is compiled. What the i18n extension would do at run time is kept exactly: the translation becomes `Markup`
when autoescaping is on and is always %-formatted (with the keyword arguments, escaped, or with none).
`_()` of a variable is translated per request by a filter, `ngettext` by a function that needs no context copy.
The templates must not rebind `_` or `gettext` (none does): a call of those names is taken for the catalog.
"""

from __future__ import annotations

from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.visitor import NodeTransformer
from markupsafe import Markup

GETTEXT_NAMES = ("_", "gettext")
TRANSLATE = "translate"  # the filter `_(variable)` becomes


class _Fold(NodeTransformer):
    """Replaces `_("literal", **kw)` by its translation (and `% kw`); anything else is left as it is."""

    def __init__(self, translations: Any) -> None:
        self.translations = translations

    def visit_Call(self, node: nodes.Call) -> nodes.Node:  # noqa: N802 (Jinja's visitor naming)
        node = self.generic_visit(node)
        if not (isinstance(node.node, nodes.Name) and node.node.name in GETTEXT_NAMES and len(node.args) == 1
                and node.dyn_args is None and node.dyn_kwargs is None):
            return node
        if not (isinstance(node.args[0], nodes.Const) and isinstance(node.args[0].value, str)):
            if node.kwargs:
                return node
            # `_(variable)`: translated per request, through a filter (called directly) instead of a call through
            # the context (Jinja's Context.call and the extension's `Markup(text) % {}`): the same text.
            return nodes.MarkSafeIfAutoescape(nodes.Filter(node.args[0], TRANSLATE, [], [], None, None,
                                                           lineno=node.lineno), lineno=node.lineno)
        text = self.translations.gettext(node.args[0].value)
        if node.kwargs:
            values = nodes.Dict([nodes.Pair(nodes.Const(k.key), k.value, lineno=node.lineno) for k in node.kwargs],
                                lineno=node.lineno)
            return nodes.Mod(nodes.MarkSafeIfAutoescape(nodes.Const(text)), values, lineno=node.lineno)
        try:
            text = text % {}  # what the extension does at run time ("%%" → "%")
        except (KeyError, TypeError, ValueError):
            return node  # a placeholder without a value: let it fail at run time, as before
        return nodes.MarkSafeIfAutoescape(nodes.Const(text), lineno=node.lineno)


def _callables(translations: Any) -> tuple[Any, Any]:
    """gettext and ngettext as the i18n extension's new style makes them, bound to one catalog."""

    @jinja2.pass_eval_context
    def gettext(eval_ctx: Any, message: str, **variables: Any) -> str:
        text = translations.gettext(message)
        return (Markup(text) if eval_ctx.autoescape else text) % variables

    @jinja2.pass_eval_context
    def ngettext(eval_ctx: Any, singular: str, plural: str, num: int, **variables: Any) -> str:
        variables.setdefault("num", num)
        text = translations.ngettext(singular, plural, num)
        return (Markup(text) if eval_ctx.autoescape else text) % variables

    return gettext, ngettext


def _translate(translations: Any) -> Any:
    """The filter `_(variable)` is compiled to: the translation, %-formatted without values as the extension does."""

    def translate(message: str) -> str:
        text = translations.gettext(message)
        return text % {} if "%" in text else text  # "%%" → "%"; a placeholder fails here as it would there

    return translate


class TranslatedEnvironment(jinja2.Environment):
    """A Jinja environment for one language whose templates have their constant texts translated already."""

    def __init__(self, translations: Any, **options: Any) -> None:
        extensions = list(options.pop("extensions", ()))
        super().__init__(extensions=[*extensions, "jinja2.ext.i18n"], **options)
        self.translations = translations
        gettext, ngettext = _callables(translations)
        self.globals.update(_=gettext, gettext=gettext, ngettext=ngettext)
        self.filters[TRANSLATE] = _translate(translations)
        self.newstyle_gettext = True  # type: ignore[attr-defined]  # as install_gettext_callables(newstyle=True)

    def compile(self, source: Any, name: str | None = None, filename: str | None = None,  # type: ignore[override]
                raw: bool = False, defer_init: bool = False) -> Any:
        """Parse, fold the constant translations, then compile as Jinja would."""
        if isinstance(source, str):
            source = self.parse(source, name, filename)
        return super().compile(_Fold(self.translations).visit(source), name, filename, raw, defer_init)

