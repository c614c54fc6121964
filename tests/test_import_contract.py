"""The house rules on imports (README "Where things go"), checked on the source of every project module.

Every `import` counts, wherever it is written (module level, inside a function, under TYPE_CHECKING): a lazy import
is still a dependency, it only fails later. The check reads the source with `ast`; it imports nothing, so it
also covers modules whose optional dependencies (Airflow, torch, spaCy) are not installed.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROJECT = ("vigie", "listeners", "nlp", "alerts", "dags")
# Project code that exists for the tests and bench/ only: the platforms' API stand-ins, the osmem header shim, the
# sample alert, the demo copied elsewhere. Shared so that bench/ never imports tests/.
TEST_AND_BENCH_ONLY = ("vigie.sim.standins", "vigie.sim.osmem", "vigie.sim.sample_alerts", "vigie.sim.demo_files")


@dataclass(frozen=True)
class Rule:
    name: str
    sources: tuple[str, ...]  # the modules (and their submodules) the rule is about
    forbidden: tuple[str, ...] = ()  # they never import these...
    allowed: tuple[str, ...] = ()  # ...except these (narrower) ones
    only: tuple[str, ...] | None = None  # or: of the project, they import these and nothing else
    except_sources: tuple[str, ...] = ()

    def applies_to(self, module: str) -> bool:
        return under(module, self.sources) and not under(module, self.except_sources)

    def breaks(self, target: str) -> bool:
        if self.only is not None:
            return not under(target, self.only)
        return under(target, self.forbidden) and not under(target, self.allowed)


def under(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


RULES = (
    Rule("listeners never import nlp, store or alerts", ("listeners",), ("nlp", "vigie.store", "alerts")),
    Rule("nlp never imports store, listeners or alerts", ("nlp",), ("vigie.store", "listeners", "alerts")),
    Rule("the store never imports nlp, alerts or listeners", ("vigie.store",), ("nlp", "alerts", "listeners")),
    Rule("detection never imports notify", ("alerts",), ("alerts.notify",), except_sources=("alerts.notify",)),
    Rule("notify never imports detection", ("alerts.notify",), ("alerts",), allowed=("alerts.notify",)),
    Rule("DAGs import only pipeline steps and config", ("dags",), only=("vigie.pipeline", "vigie.core.config")),
    Rule("core imports only core", ("vigie.core",), only=("vigie.core",)),
    Rule("the pipeline never imports the app or the DAGs", ("vigie.pipeline",), ("vigie.app", "dags")),
    Rule("no module imports the CLI's main (commands register in vigie.app.cli.COMMANDS)", PROJECT,
         ("vigie.app.cli.main",), except_sources=("vigie.app.cli.main",)),
    Rule("production code never imports what only tests and benchmarks use", PROJECT, TEST_AND_BENCH_ONLY,
         except_sources=TEST_AND_BENCH_ONLY),
)

def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported(path: Path, root: Path, modules: set[str]) -> set[str]:
    """The project modules `path` imports (`from a.b import c` imports `a.b`, and `a.b.c` when c is a module)."""
    module = module_name(path, root)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            targets.add(source)
            targets.update(f"{source}.{alias.name}" for alias in node.names if f"{source}.{alias.name}" in modules)
    return {t for t in targets if under(t, PROJECT)}


def project_files(root: Path = ROOT) -> list[Path]:
    return sorted(p for top in PROJECT for p in (root / top).rglob("*.py"))


def violations(root: Path = ROOT) -> dict[tuple[str, str], list[str]]:
    """(importer, imported) -> the names of the rules that import breaks."""
    found: dict[tuple[str, str], list[str]] = {}
    files = project_files(root)
    modules = {module_name(p, root) for p in files}
    for path in files:
        module = module_name(path, root)
        rules = [r for r in RULES if r.applies_to(module)]
        for target in sorted(imported(path, root, modules)):
            broken = [r.name for r in rules if r.breaks(target)]
            if broken:
                found[(module, target)] = broken
    return found


def test_no_module_imports_against_the_house_rules():
    found = violations()  # no allow-list: an import against the rules is fixed, never excused
    assert not found, "imports against the house rules:\n" + "\n".join(
        f"  {importer} imports {target}: {'; '.join(rules)}" for (importer, target), rules in sorted(found.items()))


def modules_in_tests(root: Path = ROOT) -> set[str]:
    """What `import X` reaches in tests/ once tests/ (or a folder of it) is on sys.path: every module and package."""
    tests = root / "tests"
    return {"tests"} | {p.stem for p in tests.rglob("*.py")} | {p.name for p in tests.rglob("*") if p.is_dir()}


def bench_reaches_into_tests(root: Path = ROOT) -> list[str]:
    """bench/ scripts that import a test module, or name the tests/ folder (to put it on sys.path)."""
    found = []
    names = modules_in_tests(root) - {"__pycache__", "data"}
    for path in sorted((root / "bench").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in sorted((n for n in ast.walk(tree) if hasattr(n, "lineno")), key=lambda n: (n.lineno, n.col_offset)):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                modules = [node.module or ""]
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and (
                    node.value == "tests" or node.value.startswith("tests/")):
                found.append(f"{path.name}:{node.lineno} names the tests folder ({node.value!r})")
                continue
            else:
                continue
            found += [f"{path.name}:{node.lineno} imports {m}" for m in modules
                      if m.split(".")[0] in names and not under(m, PROJECT)]
    return found


def test_bench_never_imports_the_tests():
    """What a benchmark shares with the tests is project code (vigie.sim.standins, vigie.sim.osmem...), importable
    from the checkout as it is: a script reaching into tests/ breaks whenever a test file is reorganised."""
    found = bench_reaches_into_tests()
    assert not found, "bench/ reaches into tests/:\n  " + "\n  ".join(found)


def test_the_bench_check_sees_test_modules_and_the_tests_folder(tmp_path):
    for folder in ("bench", "tests/listeners", "tests/fakes", "vigie/sim/standins"):
        (tmp_path / folder).mkdir(parents=True)
    for name in ("tests/notify_fixtures.py", "tests/listeners/test_listeners_x.py", "tests/fakes/__init__.py",
                 "tests/fakes/clock.py", "vigie/sim/standins/server.py"):
        (tmp_path / name).write_text("")
    (tmp_path / "bench" / "fine.py").write_text("import json\nfrom vigie.sim.standins.server import FixtureServer\n"
                                                "from listeners.x import XListener\n")
    (tmp_path / "bench" / "bad.py").write_text(
        "import sys\nfrom pathlib import Path\nROOT = Path(__file__).parents[1]\n"
        "sys.path.insert(0, str(ROOT / 'tests'))\nfrom notify_fixtures import make_alert\n"
        "def run():\n    import test_listeners_x as x\n    from fakes.clock import FakeClock\n")
    assert bench_reaches_into_tests(tmp_path) == [
        "bad.py:4 names the tests folder ('tests')", "bad.py:5 imports notify_fixtures",
        "bad.py:7 imports test_listeners_x", "bad.py:8 imports fakes.clock"]


def test_the_check_sees_lazy_relative_and_from_imports(tmp_path):
    """The checker itself: an import inside a function, a relative one and a `from package import module` all count."""
    for folder in ("listeners", "nlp", "vigie/core", "vigie/store", "dags"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "__init__.py").write_text("")
    (tmp_path / "listeners" / "fine.py").write_text("import json\nfrom vigie.core import models\n")
    (tmp_path / "listeners" / "lazy.py").write_text("def plan():\n    from nlp.query import parse\n")
    (tmp_path / "nlp" / "rel.py").write_text("from ..vigie import store\n")
    (tmp_path / "vigie" / "core" / "up.py").write_text("from vigie.store import open_store\n")
    (tmp_path / "dags" / "d.py").write_text("from vigie.pipeline.steps import run\nfrom vigie.core.config import load\n"
                                            "from vigie.app import report\n")
    (tmp_path / "vigie" / "app").mkdir()
    (tmp_path / "vigie" / "app" / "report.py").write_text("")
    found = violations(tmp_path)
    assert set(found) == {
        ("listeners.lazy", "nlp.query"),
        ("nlp.rel", "vigie.store"),
        ("vigie.core.up", "vigie.store"),
        ("dags.d", "vigie.app"), ("dags.d", "vigie.app.report"),
    }
    assert found[("nlp.rel", "vigie.store")] == ["nlp never imports store, listeners or alerts"]
