"""Worker processes that end when the process that started them dies.

A loky worker busy with a long cell outlives its parent when the parent is killed
(SIGKILL, an out-of-memory kill, a closed terminal): measured, a worker and two resource
trackers of ``skarm reproduce --n-jobs 2`` were still running 18 minutes after the run
was killed. joblib cannot know, so the cell function itself watches its parent.
"""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

import os
import threading
import time

__all__ = ["exit_with_parent"]

_watched = set()
_lock = threading.Lock()


def _watch(parent_pid, interval):
    while True:
        time.sleep(interval)
        # An orphan is re-parented (to init or a subreaper): its parent id changes.
        if os.getppid() != parent_pid:
            os._exit(1)  # the parent is gone; nothing waits for this work any more


def exit_with_parent(parent_pid, interval=1.0):
    """In a child process of ``parent_pid``, end the process within ``interval`` seconds
    of that parent's death (a daemon thread, started once per process).

    Does nothing in ``parent_pid`` itself, nor in a process that ``parent_pid`` did not
    start directly (a worker of a cluster, whose parent is a nanny or another machine's
    process): only a direct child is sure to be orphaned when ``parent_pid`` dies.
    """
    if parent_pid is None or os.getppid() != parent_pid:
        return
    with _lock:
        if parent_pid in _watched:
            return
        _watched.add(parent_pid)
    threading.Thread(target=_watch, args=(parent_pid, interval), daemon=True,
                     name="skarm-exit-with-parent").start()
