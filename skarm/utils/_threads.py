"""Thread-pool control shared by the solvers and the attacks."""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

import functools

from threadpoolctl import ThreadpoolController

__all__ = ["single_threaded_blas"]


@functools.cache
def _controller():
    # Inspecting the loaded libraries is the costly part of threadpoolctl (about 2.5 ms,
    # measured: it tripled GASE's time per instance at small budgets when done per call);
    # BLAS is loaded with numpy, before the first call, so one inspection is enough.
    return ThreadpoolController()


def single_threaded_blas():
    """Context manager that runs BLAS on one thread (restores the previous setting)."""
    return _controller().limit(limits=1, user_api="blas")
