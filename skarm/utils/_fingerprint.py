"""Hashes of files by content, and of the source code a computation imports.

:func:`file_digest` hashes one file a block at a time (the MULAN parse cache keys its
entries by it). :func:`import_closure` finds, without importing anything, the modules of a
package that some root modules reach through their ``import`` statements, and
:func:`source_fingerprint` hashes their content: the cache key of a reproduction cell
follows the code it runs, with no list of file names to keep by hand.
"""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

import ast
import hashlib
from pathlib import Path

__all__ = ["file_digest", "import_closure", "source_fingerprint"]


def file_digest(path, algorithm="sha256"):
    """The digest (bytes) of a file's content, read a megabyte at a time."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.digest()


def _module_file(package_dir, name):
    """The source file of module ``name`` of the package in ``package_dir``, or None."""
    package, *parts = name.split(".")
    if package != package_dir.name:
        return None
    base = package_dir.joinpath(*parts)
    for path in ([base.with_suffix(".py")] if parts else []) + [base / "__init__.py"]:
        if path.is_file():
            return path
    return None


def _import_nodes(node, lazy=False):
    """The ``import`` statements under ``node``, each with whether it is inside a function
    (a lazy import, run only when the function is called)."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            yield child, lazy
        else:
            scope = isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            yield from _import_nodes(child, lazy or scope)


def _imports(tree, name, is_package):
    """The modules an ``ast`` tree imports, as (absolute name, lazy) pairs: for ``from A
    import b``, both ``A`` and ``A.b`` (a module or nothing; ``from . import b`` gives
    only the latter)."""
    here = name.split(".") if is_package else name.split(".")[:-1]
    for node, lazy in _import_nodes(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif node.level > len(here):
            continue  # beyond the top-level package: not ours
        else:
            base = ".".join(here[: len(here) - node.level + 1] if node.level else [])
            if node.module:
                base = f"{base}.{node.module}" if base else node.module
            # ``from . import b`` names no module of its own: its package is a parent.
            names = [base] if node.module else []
            names += [f"{base}.{alias.name}" for alias in node.names]
        for imported in names:
            yield imported, lazy


def _inside(name, packages):
    return any(name == p or name.startswith(p + ".") for p in packages)


def import_closure(package_dir, roots, *, lazy_exclude=()):
    """The modules of a package that ``roots`` import, directly or not, found statically.

    Every ``import`` and ``from ... import`` of the package's own modules is followed,
    those inside functions included (a lazily imported backend is still code that runs);
    nothing is imported. The packages of ``lazy_exclude`` are not entered through an import
    inside a function: an optional part that the computation loads only on some paths (the
    torch backend of a linear model, the data loaders). An import at module level always
    counts. Parent packages are not added by themselves: a module's ``__init__`` counts
    only where something imports that package by name.

    Parameters
    ----------
    package_dir : path-like
        The folder of the top-level package (its name is the package's).
    roots : iterable of str
        Absolute names of the modules to start from.
    lazy_exclude : iterable of str, default=()
        Absolute names of sub-packages not followed through a lazy import.

    Returns
    -------
    modules : dict
        Module name -> source file, sorted by name.

    Raises
    ------
    ValueError
        If a root is not a module of the package.

    Examples
    --------
    >>> from pathlib import Path
    >>> import skarm
    >>> from skarm.utils._fingerprint import import_closure
    >>> closure = import_closure(Path(skarm.__file__).parent, ["skarm.utils._fingerprint"])
    >>> list(closure)
    ['skarm.utils._fingerprint']
    """
    package_dir = Path(package_dir)
    todo = list(roots)
    missing = [name for name in todo if _module_file(package_dir, name) is None]
    if missing:  # an empty closure would hash to a fingerprint that never changes
        raise ValueError(f"{missing} are not modules of the package in {package_dir}.")
    found = {}
    while todo:  # each module enters ``found`` once: at most one pass per file
        name = todo.pop()
        path = _module_file(package_dir, name)
        if name in found or path is None:
            continue
        found[name] = path
        tree = ast.parse(path.read_bytes(), filename=str(path))
        for imported, lazy in _imports(tree, name, path.name == "__init__.py"):
            if not (lazy and _inside(imported, lazy_exclude)):
                todo.append(imported)
    return dict(sorted(found.items()))


def source_fingerprint(package_dir, files):
    """A short hash (16 hex digits) of the content of ``files`` of a package.

    Each file enters with its path inside the package, so that moving code counts too;
    their order does not count.

    Examples
    --------
    >>> from pathlib import Path
    >>> import skarm
    >>> from skarm.utils._fingerprint import import_closure, source_fingerprint
    >>> root = Path(skarm.__file__).parent
    >>> files = import_closure(root, ["skarm.utils._io"]).values()
    >>> source_fingerprint(root, files) == source_fingerprint(root, reversed(list(files)))
    True
    """
    package_dir = Path(package_dir)
    digest = hashlib.sha1()
    for rel, path in sorted((Path(p).relative_to(package_dir).as_posix(), p) for p in files):
        digest.update(rel.encode())
        digest.update(file_digest(path))
    return digest.hexdigest()[:16]
