"""Shared fixtures: the MULAN data folder and a seed."""

import os
from pathlib import Path

import pytest

_DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


def mulan_data_home():
    """The folder holding the MULAN data sets, or None when it is absent."""
    path = Path(os.environ.get("SKARM_DATA", _DEFAULT_DATA))
    return path if path.is_dir() else None


@pytest.fixture
def data_home():
    """MULAN data folder ($SKARM_DATA or ../shared/datasets); skips the test if absent."""
    path = mulan_data_home()
    if path is None:
        pytest.skip(
            "MULAN data folder not found: set SKARM_DATA to a folder holding NAME/NAME-train"
            ".arff, NAME-test.arff and NAME.xml per data set (the README says where to get "
            "them)"
        )
    return path


@pytest.fixture(params=[0, 1, 2])
def global_random_seed(request):
    """A few fixed seeds, as scikit-learn's fixture of the same name."""
    return request.param
