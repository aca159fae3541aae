"""Doctest collection of skarm.deep: skipped when the deep extra is not installed."""

try:
    import skorch  # noqa: F401
    import torch  # noqa: F401
except ImportError:
    collect_ignore_glob = ["*.py"]
