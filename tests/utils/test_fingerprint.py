"""The source fingerprint of the reproduction's cells, and hashing files by content."""

import hashlib
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import skarm
from skarm.datasets import _cache
from skarm.utils._fingerprint import file_digest, import_closure, source_fingerprint

ROOT = Path(skarm.__file__).resolve().parent


def write_package(folder, files):
    """Write a package: {relative path: source}; returns the package folder."""
    for rel, source in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))
    return folder / next(iter(files)).split("/")[0]


# --------------------------------------------------------------------------------------
# A synthetic package: what the closure follows, and what changes the hash
# --------------------------------------------------------------------------------------

PKG = {
    "pkg/__init__.py": "from . import report\n",  # a parent: not followed by itself
    "pkg/cells.py": """
        import os
        import pkg.sub.mod
        from .solver import fit
        from . import metric
        from .optional import eager
    """,
    "pkg/solver.py": """
        def fit():
            from .optional import backend
            return backend
    """,
    "pkg/metric.py": "VALUE = 1\n",
    "pkg/report.py": "from .cells import fit\n",
    "pkg/sub/__init__.py": "",
    "pkg/sub/mod.py": "from ..metric import VALUE\nfrom ... import beyond\n",
    "pkg/optional/__init__.py": "",
    "pkg/optional/eager.py": "",
    "pkg/optional/backend.py": "",
}


def closure_files(pkg, roots=("pkg.cells",), **kwargs):
    return sorted(p.relative_to(pkg).as_posix()
                  for p in import_closure(pkg, roots, **kwargs).values())


def fingerprint(pkg, roots=("pkg.cells",), **kwargs):
    return source_fingerprint(pkg, import_closure(pkg, roots, **kwargs).values())


def test_closure_follows_every_kind_of_import(tmp_path):
    pkg = write_package(tmp_path, PKG)
    # By hand from PKG: absolute, relative, ``from . import``, lazy, a sub-package's
    # ``..`` (and ``...``, beyond the package, ignored); not the report (it imports the
    # cells, not the other way), not the __init__ of a package only run as a parent
    # (pkg, pkg.sub), not os. ``from .optional import eager`` names pkg.optional itself.
    expected = ["cells.py", "metric.py", "optional/__init__.py", "optional/backend.py",
                "optional/eager.py", "solver.py", "sub/mod.py"]
    assert closure_files(pkg) == expected
    # Lazily imported only: left out under lazy_exclude; imported at module level: kept.
    assert closure_files(pkg, lazy_exclude=["pkg.optional"]) == [
        f for f in expected if f != "optional/backend.py"
    ]


def test_a_root_outside_the_package_is_an_error(tmp_path):
    pkg = write_package(tmp_path, PKG)
    with pytest.raises(ValueError, match=r"\['pkg.nothing', 'other.cells'\] are not modules"):
        import_closure(pkg, ["pkg.cells", "pkg.nothing", "other.cells"])


def modules(files):
    """The modules among files, leaving out packages' __init__ (run as parents by Python)."""
    return {f for f in files if not f.endswith("__init__.py")}


def test_closure_agrees_with_what_python_imports(tmp_path):
    # The independent reference: the package's own modules that Python has loaded after
    # importing the root and calling the function with the lazy import.
    pkg = write_package(tmp_path, {**PKG, "pkg/__init__.py": ""})
    (pkg / "sub" / "mod.py").write_text("from ..metric import VALUE\n")  # importable
    code = ("import json, sys, pkg.cells; pkg.cells.fit(); print(json.dumps(sorted("
            "m.__file__ for n, m in sys.modules.items() if n.startswith('pkg.'))))")
    run = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                         text=True, timeout=60, check=True)
    loaded = {Path(f).relative_to(pkg).as_posix() for f in json.loads(run.stdout)}
    assert modules(loaded) == modules(closure_files(pkg)) and "report.py" not in loaded


def test_a_newly_imported_module_changes_the_hash_and_a_new_report_does_not(tmp_path):
    pkg = write_package(tmp_path, PKG)
    before = fingerprint(pkg)
    assert fingerprint(pkg) == before  # deterministic
    # A new report module that imports the cells, a new unused module: nothing changes.
    (pkg / "report2.py").write_text("from .cells import fit\nfrom .solver import fit\n")
    (pkg / "unused.py").write_text("X = 1\n")
    assert fingerprint(pkg) == before
    # The solver starts to import a new module (lazily): the hash changes, and from then
    # on every edit of that module changes it too, although no list was updated.
    (pkg / "kernels.py").write_text("def k():\n    return 1\n")
    solver = pkg / "solver.py"
    solver.write_text(solver.read_text().replace("    return backend",
                                                 "    from .kernels import k\n    return k"))
    with_kernels = fingerprint(pkg)
    assert with_kernels != before
    assert "kernels.py" in closure_files(pkg)
    (pkg / "kernels.py").write_text("def k():\n    return 2\n")
    assert fingerprint(pkg) != with_kernels
    # An edit of a module left out (a report, the package's __init__) changes nothing.
    edited = fingerprint(pkg)
    (pkg / "report.py").write_text("from .cells import fit  # edited\n")
    (pkg / "__init__.py").write_text("")
    assert fingerprint(pkg) == edited


def test_moving_a_module_changes_the_hash(tmp_path):
    a = write_package(tmp_path / "a", {"pkg/cells.py": "from .x import f\n",
                                       "pkg/x.py": "def f(): pass\n"})
    b = write_package(tmp_path / "b", {"pkg/cells.py": "from .y import f\n",
                                       "pkg/y.py": "def f(): pass\n"})
    c = write_package(tmp_path / "c", {"pkg/cells.py": "from .x import f\n",
                                       "pkg/x.py": "def f(): pass\n"})
    assert fingerprint(a) == fingerprint(c) != fingerprint(b)


# --------------------------------------------------------------------------------------
# skarm's cells
# --------------------------------------------------------------------------------------


def test_cells_depend_on_the_solvers_and_attacks_not_on_the_reports():
    from skarm.experiments._cells import code_fingerprint, code_modules

    linear = {p.relative_to(ROOT).as_posix() for p in code_modules().values()}
    deep = {p.relative_to(ROOT).as_posix() for p in code_modules(deep=True).values()}
    for needed in ("experiments/_cells.py", "experiments/_protocol.py", "_classifier.py",
                   "linear/_solvers.py", "linear/_objective.py", "attacks/_kernels.py",
                   "attacks/_gase.py", "attacks/_pgd.py", "metrics/_sae.py", "_greedy.py"):
        assert needed in linear and needed in deep, needed
    reports = {"experiments/_tables.py", "experiments/_plots.py", "experiments/_claims.py",
               "experiments/_analysis.py", "experiments/_run.py", "experiments/__init__.py",
               "_cli.py", "__main__.py"}
    for files in (linear, deep):
        assert not files & reports
        assert not any(f.startswith(("display/", "datasets/")) for f in files)
    # The torch backend counts for the torch protocol only.
    assert "deep/_fit.py" in deep and "deep/_net.py" in deep
    assert "deep/_fit.py" not in linear and "deep/_net.py" not in linear
    assert linear < deep
    assert code_fingerprint() == source_fingerprint(ROOT, code_modules().values())
    assert code_fingerprint(True) == source_fingerprint(ROOT, code_modules(True).values())


RUNTIME = """
import json, sys, types
from pathlib import Path

import numpy as np
import skarm

# skarm.experiments without its __init__ (which imports the reports): the cells alone.
stub = types.ModuleType("skarm.experiments")
stub.__path__ = [str(Path(skarm.__file__).parent / "experiments")]
sys.modules["skarm.experiments"] = stub
from sklearn.utils import Bunch
from skarm.experiments import _cells, _protocol

rng = np.random.RandomState(0)
X, Y = rng.randn(120, 6), (rng.rand(120, 3) < 0.4).astype(int)
split = _protocol.split_standardise(X, Y)
data = Bunch(name="toy", fingerprint="f")
_cells.compute_cell(data, split, "sae", 0.1, _protocol.default_protocol(quick=True))
print(json.dumps(sorted(
    m.__file__ for n, m in list(sys.modules.items())
    if n.startswith("skarm.") and getattr(m, "__file__", None)
    and not m.__file__.endswith("__init__.py")
)))
"""


def test_every_module_a_cell_runs_is_in_its_fingerprint():
    # The independent reference: what Python actually loads to compute a linear cell.
    # Package __init__ files run as parents are left out (they hold no numbers' code).
    from skarm.experiments._cells import code_modules

    run = subprocess.run([sys.executable, "-c", RUNTIME], capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr
    loaded = {Path(f).resolve() for f in json.loads(run.stdout.splitlines()[-1])}
    assert any(p.name == "_solvers.py" for p in loaded)  # the run did fit a model
    assert loaded <= {p.resolve() for p in code_modules().values()}


# --------------------------------------------------------------------------------------
# Hashing files by content (the MULAN parse cache)
# --------------------------------------------------------------------------------------


def test_file_digest_reads_big_files_in_blocks(tmp_path):
    path = tmp_path / "big"
    content = bytes(range(256)) * 9000  # 2.3 MB: three blocks
    path.write_bytes(content)
    assert file_digest(path) == hashlib.sha256(content).digest()
    assert file_digest(path, "sha1") == hashlib.sha1(content).digest()
    (tmp_path / "empty").write_bytes(b"")
    assert file_digest(tmp_path / "empty") == hashlib.sha256(b"").digest()


def test_mulan_cache_keys_are_unchanged(tmp_path):
    # The keys of the parse cache entries written before the hashing moved to
    # skarm.utils: the SHA-256 of the cache version and of each file's SHA-256.
    a, b = tmp_path / "a.arff", tmp_path / "a.xml"
    a.write_bytes(b"@relation a\n" * 1000)
    b.write_bytes(b"<labels/>")
    key = hashlib.sha256(str(_cache._CACHE_VERSION).encode())
    for content in (a.read_bytes(), b.read_bytes()):
        key.update(hashlib.sha256(content).digest())
    assert _cache.file_key(a, b) == key.hexdigest()[:20]
    assert _cache.file_key(b, a) != _cache.file_key(a, b)


@pytest.mark.parametrize("config", [{"a": 1, "b": [0.5, None]}, {"x": {"y": "z"}}])
def test_cell_key_ignores_the_order_of_the_keys(config):
    from skarm.experiments._cells import cell_key

    reordered = json.loads(json.dumps(dict(reversed(list(config.items())))))
    assert cell_key(reordered) == cell_key(config)
    assert len(cell_key(config)) == 20 and int(cell_key(config), 16) >= 0
    changed = {**config, "new": 0}
    assert cell_key(changed) != cell_key(config)
