"""The BLAS thread limit used by the solvers and the attacks."""

from threadpoolctl import threadpool_info

from skarm.utils._threads import single_threaded_blas


def _blas_threads():
    return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]


def test_single_threaded_blas_limits_and_restores():
    before = _blas_threads()
    with single_threaded_blas():
        assert all(n == 1 for n in _blas_threads())
    assert _blas_threads() == before
    with single_threaded_blas():  # the cached controller works again
        assert all(n == 1 for n in _blas_threads())
