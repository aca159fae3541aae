"""Numpydoc validation of every public docstring, and the API reference's completeness.

Modelled on scikit-learn's ``maint_tools/test_docstrings.py``: each public class, its
public methods and each public function are run through :func:`numpydoc.validate.validate`.
The doctests in the Examples sections run separately, through ``--doctest-modules``.
"""

import importlib
import inspect
import re
from pathlib import Path

import pytest

numpydoc_validation = pytest.importorskip("numpydoc.validate")

PUBLIC_MODULES = [
    "skarm",
    "skarm.attacks",
    "skarm.datasets",
    "skarm.deep",
    "skarm.exceptions",
    "skarm.experiments",
    "skarm.metrics",
    "skarm.model_selection",
    "skarm.utils",
]

# The codes scikit-learn filters, for the same reasons: GL01/GL02 (where the summary starts
# and ends) and RT02 (a bare return type) are house style; See Also (SA01) and an extended
# summary (ES01) are welcome but optional.
IGNORED = {"GL01", "GL02", "RT02", "SA01", "ES01"}
# Methods need no Examples section of their own: the class's shows them in use.
IGNORED_FOR_METHODS = IGNORED | {"EX01"}

API_REFERENCE = Path(__file__).parents[1] / "doc" / "api.rst"


def _public_objects():
    """(qualified name, object) of every class and function skarm itself defines and exports."""
    seen = {}
    for module_name in PUBLIC_MODULES:
        if module_name == "skarm.deep" and importlib.util.find_spec("torch") is None:
            continue
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            if not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue  # submodules, constants, __version__
            if not obj.__module__.startswith("skarm"):
                continue  # scikit-learn's exceptions, re-exported for convenience
            seen.setdefault(id(obj), (f"{module_name}.{name}", obj))
    return sorted(seen.values())


def _validation_targets():
    for qualname, obj in _public_objects():
        yield pytest.param(qualname, IGNORED, id=qualname)
        if inspect.isclass(obj):
            for attr, value in vars(obj).items():
                if attr.startswith("_"):
                    continue
                if inspect.isfunction(value) or isinstance(value, property):
                    yield pytest.param(
                        f"{qualname}.{attr}", IGNORED_FOR_METHODS, id=f"{qualname}.{attr}"
                    )


@pytest.mark.parametrize("qualname, ignored", list(_validation_targets()))
def test_docstring_is_valid_numpydoc(qualname, ignored):
    """The docstring passes numpydoc's validator (scikit-learn's ignore list)."""
    result = numpydoc_validation.validate(qualname)
    errors = [f"{code}: {message}" for code, message in result["errors"] if code not in ignored]
    assert not errors, f"{qualname}:\n" + "\n".join(errors)


@pytest.mark.parametrize(
    "qualname, obj", [pytest.param(q, o, id=q) for q, o in _public_objects()]
)
def test_public_object_has_runnable_example(qualname, obj):
    """Every public class and function shows a doctest (``>>>``) in its Examples section."""
    doc = inspect.getdoc(obj) or ""
    examples = re.split(r"\n\s*Examples\n\s*-{8}\n", doc)
    assert len(examples) == 2, f"{qualname} has no Examples section"
    assert ">>>" in examples[1], f"{qualname}'s Examples section has no doctest"


def test_api_reference_lists_every_public_object():
    """doc/api.rst documents every public class and function, under its public path."""
    if not API_REFERENCE.exists():
        pytest.skip("doc/api.rst is not in this checkout")
    listed = set(re.findall(r"^\s{3}([\w.]+)\s*$", API_REFERENCE.read_text(), flags=re.M))
    listed = {name if name.startswith("skarm") else f"skarm.{name}" for name in listed}
    missing = []
    for qualname, _ in _public_objects():
        # A top-level re-export (skarm.GASEAttack) may be listed under either path.
        names = {qualname, f"skarm.{qualname.rsplit('.', 1)[1]}"}
        if not names & listed:
            missing.append(qualname)
    assert not missing, f"not in doc/api.rst: {missing}"
