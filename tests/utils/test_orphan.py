"""Worker processes end when the process that started them is killed."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from skarm.utils._orphan import exit_with_parent

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX re-parenting")

# The parent prints its child's pid, then sleeps; the child watches the parent, says so on the
# same pipe (its stdout is the parent's) and sleeps.
PARENT = textwrap.dedent("""
    import os, subprocess, sys, time
    child = subprocess.Popen([sys.executable, "-c",
        "import os, time; from skarm.utils._orphan import exit_with_parent; "
        f"exit_with_parent({os.getpid()}, interval=0.1); print('watching', flush=True); "
        "time.sleep(60)"])
    print(child.pid, flush=True)
    time.sleep(60)
""")


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (dead, not yet reaped) still answers kill(pid, 0).
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split(")")[-1].split()[0] != "Z"


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc")
def test_child_ends_when_its_parent_is_killed():
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    # Killing the parent before the child watches it would test nothing (and, on a loaded
    # machine where the import takes seconds, fail): wait for the child to say it watches.
    assert parent.stdout.readline().strip() == "watching"
    assert _alive(child)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 20
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(child)


def test_no_watch_in_the_parent_itself_or_a_grandchild():
    # Neither this process (pid != its own parent) nor None starts a thread.
    import threading

    before = threading.active_count()
    exit_with_parent(os.getpid())
    exit_with_parent(None)
    assert threading.active_count() == before
