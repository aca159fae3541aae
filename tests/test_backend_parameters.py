"""Each backend declares the parameters it reads; the other backend's are not silently lost."""

import inspect
import warnings

import numpy as np
import pytest
from sklearn.datasets import make_multilabel_classification

from skarm import ARMClassifier, ARMPrimalClassifier, ARMSAEClassifier
from skarm._spec import SHARED_PARAMETERS
from skarm.deep._params import TORCH_PARAMETERS
from skarm.linear._fit import LINEAR_PARAMETERS, fit_linear

X, Y = make_multilabel_classification(n_samples=40, n_features=5, n_classes=3, random_state=0)
X = X / X.std()


class _Forward:
    def forward(self, x):  # pragma: no cover - never called by the linear backend
        return x


# A valid value other than the default for every backend-only parameter.
LINEAR_VALUES = {"C": 2.0, "loss": "squared_hinge", "solver": "lbfgs", "max_iter": 50,
                 "tol": 1e-3, "n_jobs": 2, "warm_start": True}
TORCH_VALUES = {"adversarial_steps": 3, "module": _Forward(), "hidden_layer_sizes": (5,),
                "max_epochs": 5, "batch_size": 8, "lr": 0.01, "validation_fraction": 0.2,
                "device": "cpu", "callbacks": [], "net_params": {}}


def test_every_backend_parameter_has_a_test_value():
    # A parameter added to a backend must be added here, so that the next tests cover it.
    assert set(LINEAR_VALUES) == set(LINEAR_PARAMETERS)
    assert set(TORCH_VALUES) == set(TORCH_PARAMETERS)
    estimator_params = set(ARMClassifier().get_params())
    assert estimator_params == {"penalty", *SHARED_PARAMETERS, *LINEAR_PARAMETERS,
                                *TORCH_PARAMETERS}
    assert not set(SHARED_PARAMETERS) & set(LINEAR_PARAMETERS)
    assert not set(LINEAR_PARAMETERS) & set(TORCH_PARAMETERS)


@pytest.mark.parametrize("name", sorted(TORCH_VALUES))
@pytest.mark.parametrize("Estimator", [ARMClassifier, ARMSAEClassifier])
def test_torch_parameter_on_the_linear_backend_warns_naming_it(name, Estimator):
    clf = Estimator(alpha=0.01, **{name: TORCH_VALUES[name]})
    with pytest.warns(FutureWarning, match=rf"^{name}=.* is available with backend='torch' "
                                           r"only; backend='linear' ignores it\. From skarm 0\.3"):
        clf.fit(X, Y)
    # Ignored indeed: the same model as without it.
    reference = Estimator(alpha=0.01).fit(X, Y)
    np.testing.assert_array_equal(clf.coef_, reference.coef_)


@pytest.mark.parametrize("name", sorted(set(LINEAR_VALUES) - {"warm_start"}))
def test_linear_parameter_on_the_torch_backend_warns_naming_it(name):
    pytest.importorskip("skorch")
    clf = ARMClassifier(penalty=None, backend="torch", max_epochs=1,
                        hidden_layer_sizes=(2,), random_state=0,
                        **{name: LINEAR_VALUES[name]})
    with pytest.warns(FutureWarning, match=rf"^{name}=.* is available with backend='linear' "
                                           "only; backend='torch' ignores it"):
        clf.fit(X, Y)


def test_warm_start_on_the_torch_backend_is_an_error():
    with pytest.raises(ValueError, match="warm_start=True is available with backend='linear'"):
        ARMClassifier(backend="torch", warm_start=True).fit(X, Y)


@pytest.mark.parametrize("params", [
    {"lr": np.float64(1e-3)},           # the default, as a numpy float
    {"hidden_layer_sizes": [100]},      # the default sizes, as a list
    {"max_epochs": 100, "batch_size": 64, "device": "auto", "callbacks": None},
])
def test_defaults_given_explicitly_do_not_warn(params):
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        ARMClassifier(alpha=0.01, **params).fit(X, Y)


def test_each_backend_takes_its_parameters_as_values():
    # The one place each parameter is honoured: the backend's own signature. The estimator
    # resolves adversarial_method and backend itself; warm_start becomes fit_linear's
    # start; the linear backend prints nothing, so it takes no verbose.
    linear = set(inspect.signature(fit_linear).parameters)
    assert {"penalty", *SHARED_PARAMETERS, *LINEAR_PARAMETERS} - linear == {
        "adversarial_method", "backend", "warm_start", "verbose"}
    assert not linear & set(TORCH_PARAMETERS)
    fit_net = pytest.importorskip("skarm.deep._fit").fit_net
    deep = set(inspect.signature(fit_net).parameters)
    assert {"penalty", *SHARED_PARAMETERS, *TORCH_PARAMETERS} - deep == {
        "adversarial_method", "backend"}
    assert not deep & set(LINEAR_PARAMETERS)


def test_presets_are_armclassifier_with_the_penalty_fixed():
    for Preset, penalty in [(ARMSAEClassifier, "sae"), (ARMPrimalClassifier, "primal")]:
        preset = Preset(alpha=0.05, C=0.5)
        assert isinstance(preset, ARMClassifier)
        assert "penalty" not in preset.get_params() and preset.penalty == penalty
        full = ARMClassifier(penalty=penalty, alpha=0.05, C=0.5)
        assert set(preset.get_params()) == set(full.get_params()) - {"penalty"}
        np.testing.assert_allclose(preset.fit(X, Y).coef_, full.fit(X, Y).coef_)
