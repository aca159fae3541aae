"""Atomic file writes: a reader sees the old file or the new one, never half of one."""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

import os
import uuid
from pathlib import Path

__all__ = ["atomic_write"]


def atomic_write(path, write, *, binary=False):
    """Write a file through a temporary file in the same folder, then rename it into place.

    The temporary file has a name no other writer uses (parallel workers, a second run on
    the same folder) and sits in the target's folder, so that the rename is atomic. It is
    removed if ``write`` fails or the run is interrupted. It is created with ``open(...,
    "x")`` rather than :func:`tempfile.mkstemp`, so that the file gets the permissions of
    the umask as any other file would (``mkstemp`` makes it readable by its owner only).

    Parameters
    ----------
    path : str or path-like
        The file to write; its folder must exist.
    write : callable
        Called with the open file (text, UTF-8, unless ``binary``); writes the content.
    binary : bool, default=False
        Open the file in binary mode.

    Returns
    -------
    path : Path
        The written file.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skarm.utils._io import atomic_write
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = atomic_write(Path(folder) / "a.txt", lambda f: f.write("hello"))
    ...     path.read_text(), [p.name for p in Path(folder).iterdir()]
    ('hello', ['a.txt'])
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        if binary:
            with open(tmp, "xb") as f:
                write(f)
        else:
            with open(tmp, "x", encoding="utf-8") as f:
                write(f)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
