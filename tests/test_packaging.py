"""The light install holds: `vigie demo` imports nothing an extra brings, and the core dependencies of pyproject.toml
bring everything it does import. Plus: every dependency pyproject.toml names is pinned in requirements.txt.

`make demo` installs only the core (`pip install -c requirements.txt -e .`); this suite runs in the full install, so
the check is on what the demo *imports*, read from `sys.modules` in a child process at exit.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from importlib.metadata import PackageNotFoundError, distribution, packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
PROJECT_PACKAGES = {"vigie", "nlp", "alerts", "listeners"}

# Optional imports of core libraries: they import these when they are installed (as in this full install) and do
# without them otherwise (a core install has none of them).
OPTIONAL_IN_CORE_LIBRARIES = {
    "pandas": "scikit-learn (sklearn.utils.fixes) when installed",
    "dateutil": "pandas, above",
    "pytz": "pandas, above",
    "psutil": "joblib's loky backend (scikit-learn) when installed",
}

RUN_DEMO = """
import json, sys
from vigie.app.cli.main import main
try:
    main(sys.argv[2:])
except SystemExit as done:
    if done.code:
        raise
with open(sys.argv[1], "w") as fh:
    json.dump(sorted({name.partition(".")[0] for name in sys.modules}), fh)
"""


def requirements(names: list[str]) -> list[Requirement]:
    return [Requirement(n) for n in names]


def core_closure() -> set[str]:
    """The distributions `pip install vigie` brings: the core dependencies and theirs (no extras)."""
    seen: set[str] = set()
    todo = [r.name for r in requirements(PYPROJECT["dependencies"])]
    while todo:
        name = canonicalize_name(todo.pop())
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = distribution(name).requires or []
        except PackageNotFoundError:
            continue
        for line in requires:
            req = Requirement(line)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return seen


def extra_distributions() -> set[str]:
    names = {canonicalize_name(r.name) for extra in PYPROJECT["optional-dependencies"].values()
             for r in requirements(extra) if canonicalize_name(r.name) != "vigie"}
    return names - {canonicalize_name(r.name) for r in requirements(PYPROJECT["dependencies"])}


@pytest.fixture(scope="module")
def demo_modules(tmp_path_factory) -> set[str]:
    """Top-level modules imported by a two-hour `vigie demo` (the bundled scenario, Friday noon, on SQLite)."""
    work = tmp_path_factory.mktemp("light-demo")
    demo = ROOT / "samples" / "demo"
    config = work / "vigie.yml"
    config.write_text((demo / "vigie.yml").read_text(encoding="utf-8")
                      .replace("path: posts.jsonl", f"path: {demo / 'posts.jsonl'}")
                      .replace("path: out/demo.db", f"path: {work / 'demo.db'}"), encoding="utf-8")
    truth = work / "truth.json"
    truth.write_text(json.dumps({"start": "2026-03-06T12:00:00Z", "end": "2026-03-06T14:00:00Z", "events": []}))
    out = work / "modules.json"
    done = subprocess.run([sys.executable, "-c", RUN_DEMO, str(out), "demo", "--config", str(config), "--truth",
                           str(truth), "--report", str(work / "report.html")],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Replay done" in done.stdout and (work / "report.html").exists()
    startup = subprocess.run([sys.executable, "-c", "import json, sys; print(json.dumps(list(sys.modules)))"],
                             capture_output=True, text=True, check=True)
    return set(json.loads(out.read_text())) - set(json.loads(startup.stdout))  # less site's own (.pth hooks)


@pytest.mark.slow
def test_the_demo_imports_nothing_an_extra_brings(demo_modules):
    owners = packages_distributions()
    extras = extra_distributions()
    heavy = {"airflow", "torch", "transformers", "spacy", "elasticsearch"}
    assert not heavy & demo_modules
    from_extras = {m: sorted(owners[m]) for m in demo_modules - OPTIONAL_IN_CORE_LIBRARIES.keys()
                   if m in owners and extras & {canonicalize_name(d) for d in owners[m]}}
    assert not from_extras, f"vigie demo imports modules of the extras: {from_extras}"


@pytest.mark.slow
def test_the_core_dependencies_bring_everything_the_demo_imports(demo_modules):
    owners = packages_distributions()
    core = core_closure()
    third_party = {m for m in demo_modules if m in owners and m not in PROJECT_PACKAGES and m not in sys.stdlib_module_names}
    missing = {m: sorted(owners[m]) for m in third_party - OPTIONAL_IN_CORE_LIBRARIES.keys()
               if not core & {canonicalize_name(d) for d in owners[m]}}
    assert not missing, f"vigie demo imports modules the core dependencies do not bring: {missing}"


def test_every_dependency_of_pyproject_is_pinned_in_requirements():
    pinned: dict[str, list[str]] = {}
    for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            req = Requirement(line)
            pinned.setdefault(canonicalize_name(req.name), []).append(str(req.specifier))
    assert all(spec.startswith("==") for specs in pinned.values() for spec in specs), pinned
    declared = {canonicalize_name(r.name) for r in requirements(PYPROJECT["dependencies"])} | extra_distributions()
    assert declared - pinned.keys() == set()
    assert sorted(PYPROJECT["optional-dependencies"]["all"]) == [
        "vigie[es,airflow,transformers,spacy,sources,serve,metrics,notebooks]"]
    # the CPU build of torch on Linux (PyPI's is the CUDA one), PyPI's own elsewhere (CPU-only there)
    torch = [line for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
             if re.match(r"torch==", line)]
    assert torch == ['torch==2.13.0+cpu ; sys_platform == "linux"', 'torch==2.13.0 ; sys_platform != "linux"']
