"""Layers read one way: no module of the package imports a layer above its own.

Every ``import`` and ``from ... import`` is checked, wherever it stands: at module level,
inside a function, under ``if TYPE_CHECKING:``. The order is declared here as data.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "analyzer"

#: The data path. A module may import its own layer and every layer before it.
ORDER = ("base", "capture", "streams", "metrics", "detectors", "baseline", "verdict",
         "population", "report", "batch", "cli")
#: Modules at the package's top level that form the base layer (they import nothing above).
BASE_MODULES = frozenset({"errors", "limits", "memory", "protocol", "version", "atomic",
                          "redact", "phases"})
#: Side layers beside the path: (the last layer they may import, the first that may import
#: them). The simulator writes pcaps from the base layer alone; the TShark cross-check reads
#: streams and is used by the command line.
SIDE = {"simulate": ("base", "baseline"), "crosscheck": ("streams", "cli")}
#: The public facade re-exports; nothing inside the package imports it.
FACADE = "facade"
FACADE_MODULES = frozenset({"analyzer", "analyzer.api", "analyzer.__main__"})
#: Violations in code other people are rewriting: (importing module, imported module).
KNOWN_VIOLATIONS: frozenset[tuple[str, str]] = frozenset()


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_package(name: str) -> bool:
    return (PACKAGE.parent / name.replace(".", "/") / "__init__.py").exists()


def is_module(name: str) -> bool:
    p = PACKAGE.parent / name.replace(".", "/")
    return p.with_suffix(".py").exists() or (p / "__init__.py").exists()


def layer_of(name: str) -> str:
    if name in FACADE_MODULES:
        return FACADE
    parts = name.split(".")
    if len(parts) == 2 and parts[1] in BASE_MODULES:
        return "base"
    if parts[1] in ORDER or parts[1] in SIDE:
        return parts[1]
    raise AssertionError(f"{name}: not in any layer; declare it in tests/test_layers.py")


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """``(line, module)`` for every import of a module of the package in ``path``."""
    here = module_name(path)
    package = here if is_package(here) else here.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                source = f"{base}.{node.module}" if node.module else base
            else:
                source = node.module or ""
            for a in node.names:
                sub = f"{source}.{a.name}"
                # ``from analyzer.report import findings`` imports a module, not a name
                out.append((node.lineno, sub if is_module(sub) else source))
    return [(line, m) for line, m in out if m == "analyzer" or m.startswith("analyzer.")]


def may_import(importer: str, imported: str) -> bool:
    if importer in (imported, FACADE):
        return True
    if imported == FACADE:
        return False
    if importer in SIDE and imported in SIDE:
        return False
    if importer in SIDE:
        return ORDER.index(imported) <= ORDER.index(SIDE[importer][0])
    if imported in SIDE:
        return ORDER.index(importer) >= ORDER.index(SIDE[imported][1])
    return ORDER.index(imported) <= ORDER.index(importer)


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_the_walk_sees_the_package() -> None:
    names = {module_name(p) for p in MODULES}
    assert {"analyzer.api", "analyzer.streams.capture", "analyzer.protocol"} <= names
    assert all(layer_of(n) for n in names)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p))
def test_no_module_imports_a_layer_above_its_own(path: Path) -> None:
    me = module_name(path)
    mine = layer_of(me)
    wrong = [f"line {line}: {me} ({mine}) imports {m} ({layer_of(m)})"
             for line, m in imported_modules(path)
             if not may_import(mine, layer_of(m)) and (me, m) not in KNOWN_VIOLATIONS]
    assert not wrong, "\n".join(wrong)


def test_known_violations_are_still_there() -> None:
    """A violation fixed by its owner must leave the list."""
    found = {(module_name(p), m) for p in MODULES for _, m in imported_modules(p)}
    assert found >= KNOWN_VIOLATIONS


def test_the_rules_themselves() -> None:
    assert may_import("streams", "capture") and not may_import("capture", "streams")
    assert may_import("simulate", "base") and not may_import("simulate", "capture")
    assert may_import("baseline", "simulate") and not may_import("detectors", "simulate")
    assert may_import("crosscheck", "streams") and not may_import("crosscheck", "metrics")
    assert not may_import("cli", FACADE) and may_import(FACADE, "cli")
