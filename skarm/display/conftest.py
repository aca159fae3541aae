"""Doctest collection of skarm.display: headless (Agg), skipped without matplotlib."""

import pytest

try:
    import matplotlib
except ImportError:
    collect_ignore_glob = ["*.py"]
else:
    matplotlib.use("Agg")

    @pytest.fixture(autouse=True)
    def _close_figures():
        """Close the figures an example opened with pyplot."""
        yield
        import matplotlib.pyplot as plt

        plt.close("all")
