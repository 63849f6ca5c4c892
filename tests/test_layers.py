"""The import rules of the house: layers run one way, the core stays pure, pjsua2 stays in softphone/."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# dialer/'s sub-packages from the bottom up; a sub-package imports only from tiers below its own.
# docs/architecture.md draws the same picture.
TIERS: tuple[tuple[str, ...], ...] = (
    ("core", "policy"),
    ("settings", "storage"),
    ("accounts", "blocks", "calllog", "live"),
    ("dossiers",),
    ("imports", "mail", "recordings"),
    ("queue",),
    ("scheduling",),
    ("banking", "calls", "wrapup"),
    ("sessions", "reports"),
    ("demo",),
    ("commands", "schema"),
    ("cli",),
)
MIGRATIONS = "dialer.storage.migrations"
TIER = {name: level for level, names in enumerate(TIERS) for name in names}

# The pure core: decisions on plain data, time passed in. They (and all they import) touch no database,
# framework, audio or telephony library, so they are tested without any of them.
PURE = (
    "dialer.core.clock", "dialer.core.money", "dialer.core.numbers", "dialer.core.heap", "dialer.core.identifiers",
    "dialer.banking.matching",
    "dialer.policy.engine", "dialer.policy.sections", "dialer.policy.packs",
    "dialer.queue.order", "dialer.queue.facts", "dialer.queue.retry", "dialer.queue.contactchoice",
    "dialer.blocks.block", "dialer.scheduling.rules", "dialer.wrapup.negotiation", "dialer.wrapup.form",
    "dialer.sessions.timer", "dialer.settings.config",
)
FRAMEWORKS = frozenset({"sqlalchemy", "alembic", "psycopg", "psycopg2", "aiohttp", "jinja2", "apscheduler",
                        "aiosmtplib", "pydub", "pjsua2", "softphone", "web"})


def module_name(path: Path) -> str:
    """The dotted name of a source file under ROOT."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def sources(package: str) -> list[Path]:
    """Every Python file of a top-level package, migrations' revision scripts aside."""
    return sorted(p for p in (ROOT / package).rglob("*.py") if "versions" not in p.parts)


def imports(path: Path) -> Iterator[str]:
    """Every module name a file imports (at any depth of the file), relative imports resolved."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            yield target
            # `from . import x` names a module x, not an attribute: count it as imported.
            for alias in node.names:
                candidate = f"{target}.{alias.name}"
                if (ROOT / Path(*candidate.split("."))).with_suffix(".py").exists():
                    yield candidate


def graph(package: str) -> dict[str, set[str]]:
    """Module → the modules of `package` it imports."""
    known = {module_name(p) for p in sources(package)}
    edges: dict[str, set[str]] = {}
    for path in sources(package):
        edges[module_name(path)] = {t for t in imports(path) if t in known and t != module_name(path)}
    return edges


def top(name: str) -> str:
    """The first part of a dotted name."""
    return name.split(".")[0]


def room(name: str) -> str:
    """The sub-package of dialer a module lives in ('cli' for dialer.cli)."""
    return name.split(".")[1] if name.count(".") else ""


@pytest.mark.parametrize("package", ["softphone", "dialer", "web"])
def test_every_file_parses_and_the_graph_is_not_empty(package: str) -> None:
    assert graph(package), package


def test_softphone_imports_nothing_of_dialer_or_web() -> None:
    bad = {(module_name(p), t) for p in sources("softphone") for t in imports(p) if top(t) in {"dialer", "web"}}
    assert not bad


def test_only_softphone_imports_pjsua2() -> None:
    bad = {(module_name(p), t) for package in ("dialer", "web") for p in sources(package)
           for t in imports(p) if top(t) == "pjsua2"}
    assert not bad


def test_dialer_never_imports_aiohttp_or_web() -> None:
    bad = {(module_name(p), t) for p in sources("dialer") for t in imports(p) if top(t) in {"aiohttp", "web"}}
    assert not bad


def test_every_sub_package_of_dialer_has_a_tier() -> None:
    rooms = {room(m) for m in graph("dialer") if room(m)}
    assert rooms == set(TIER)


def upward(edges: dict[str, set[str]]) -> list[tuple[str, str]]:
    """Imports that run up or sideways between sub-packages."""
    return sorted((a, b) for a, targets in edges.items() for b in targets
                  if room(a) != room(b) and TIER[room(b)] >= TIER[room(a)])


def test_sub_packages_import_only_from_lower_tiers() -> None:
    # Alembic's env.py is a script Alembic runs, not a module anything imports: it needs the whole schema.
    edges = {m: t for m, t in graph("dialer").items() if room(m) and not m.startswith(MIGRATIONS)}
    assert not upward({m: {t for t in ts if room(t)} for m, ts in edges.items()})


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The import cycles a depth-first walk meets, each as the path that closes it."""
    found: list[list[str]] = []
    state: dict[str, int] = {}  # 1 on the path, 2 done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                found.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for start in sorted(edges):
        if start not in state:
            visit(start, [start])
    return found


@pytest.mark.parametrize("package", ["softphone", "dialer", "web"])
def test_no_import_cycles_between_modules(package: str) -> None:
    assert not cycles(graph(package))


def closure(start: str, edges: dict[str, set[str]]) -> set[str]:
    """Every dialer module `start` reaches through its imports, itself included."""
    seen, todo = {start}, [start]
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


@pytest.mark.parametrize("module", PURE)
def test_the_pure_core_imports_no_database_or_framework(module: str) -> None:
    edges = graph("dialer")
    assert module in edges, module
    reached = closure(module, edges)
    files = {module_name(p): p for p in sources("dialer")}
    bad = {(m, t) for m in reached for t in imports(files[m]) if top(t) in FRAMEWORKS}
    assert not bad


def test_the_checkers_can_fail() -> None:
    # A made-up graph with an upward import and a cycle: both are found.
    edges = {"dialer.core.money": {"dialer.queue.order"}, "dialer.queue.order": {"dialer.core.money"}}
    assert upward(edges) == [("dialer.core.money", "dialer.queue.order")]
    assert cycles(edges) == [["dialer.core.money", "dialer.queue.order", "dialer.core.money"]]
