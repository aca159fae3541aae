"""Sphinx configuration of the skarm documentation.

Build with ``make -C doc html`` (runs the gallery) or ``make -C doc html-noplot`` (quick mode,
as CI does: the gallery pages are rendered from their sources without running them).
"""

import importlib
import inspect
import os
import warnings

import skarm

project = "skarm"
author = "The skarm developers"
copyright = "2026, The skarm developers"  # noqa: A001 - Sphinx's name
version = release = skarm.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    # MathJax from the build's own _static folder instead of a CDN, so that the formulas
    # render in a copy of the docs opened offline (it sets mathjax_path).
    "sphinx-mathjax-offline",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "examples/README.txt", "examples/*.py"]
root_doc = "index"
default_role = "literal"

# --- API reference -------------------------------------------------------------------------
autosummary_generate = True
autodoc_default_options = {"members": False, "inherited-members": False}
# numpydoc lists methods itself through the class template; its own member lists would repeat
# them and warn about the inherited sklearn methods.
numpydoc_show_class_members = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False


def skarm_methods(fullname):
    """Public methods of a class that skarm defines (not those inherited from sklearn/torch).

    The class template lists these only: the inherited ones are documented by their own
    projects, and their docstrings refer to labels that exist only there. Properties are
    described in the class's Attributes section.
    """
    module_name, _, class_name = fullname.rpartition(".")
    cls = getattr(importlib.import_module(module_name), class_name)
    names = []
    for name in dir(cls):
        if name.startswith("_"):
            continue
        owner = next(klass for klass in cls.__mro__ if name in vars(klass))
        member = vars(owner)[name]
        if owner.__module__.startswith("skarm") and (
            inspect.isfunction(member) or isinstance(member, classmethod)
        ):
            names.append(name)
    return names


autosummary_context = {"skarm_methods": skarm_methods}
# The context holds a function, which Sphinx cannot pickle into its cache (harmless: the
# API pages are regenerated on every build).
suppress_warnings = ["config.cache"]

# --- Gallery --------------------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "doc_module": ("skarm",),
    "backreferences_dir": "generated/backreferences",
    "reference_url": {"skarm": None},
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "matplotlib_animations": False,
    "abort_on_example_error": True,
}
# The examples look for the MULAN files the same way the tests do.
os.environ.setdefault(
    "SKARM_DATA", os.path.abspath(os.path.join(os.path.dirname(__file__), "../../shared/datasets"))
)
os.environ.setdefault("MPLBACKEND", "Agg")
warnings.filterwarnings(
    "ignore", category=UserWarning, message="Matplotlib is currently using agg"
)

# --- HTML -------------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skarm {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 6,
}
# Pages without sub-pages: no left sidebar (the theme would show an empty "Section
# Navigation" there).
html_sidebars = {"install": [], "quick_start": [], "changelog": []}
html_static_path = ["_static"]
html_css_files = ["skarm.css"]
html_show_sourcelink = False
