"""Target label sets of the usual targeted multi-label attacks (hide all, hide one, show one)."""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

import numpy as np
from sklearn.utils import check_random_state

from ..utils._validation import check_label_indicator

__all__ = ["make_targets"]

GOALS = ("hide_all", "hide_one", "show_one")


def make_targets(Y_pred, goal, *, random_state=None):
    """Target label sets for :meth:`~skarm.GASEAttack.attack_target`, from predictions.

    The goals of the multi-label attack literature (Song et al., ICDM 2018):

    - ``"hide_all"``: predict no label at all;
    - ``"hide_one"``: drop one predicted label, drawn at random, and keep the others;
    - ``"show_one"``: add one label not predicted, drawn at random, and keep the others.

    Parameters
    ----------
    Y_pred : array-like of shape (n_samples, n_labels)
        {0, 1} predictions of the model on the instances to attack.
    goal : {"hide_all", "hide_one", "show_one"}
        What the attack aims at.
    random_state : int, RandomState instance or None, default=None
        Draws the label hidden or shown.

    Returns
    -------
    target : ndarray of shape (n_samples, n_labels)
        {0, 1} target label sets.
    applicable : bool ndarray of shape (n_samples,)
        Whether the goal asks for a change there: "hide_all" and "hide_one" need a
        predicted label, "show_one" a label not predicted. Where it does not, ``target``
        equals the prediction, and an attack would succeed without trying: leave those
        rows out of a success rate.

    Examples
    --------
    >>> import numpy as np
    >>> from skarm.attacks import make_targets
    >>> target, applicable = make_targets(np.array([[1, 0, 1], [0, 0, 0]]), "hide_one",
    ...                                   random_state=0)
    >>> target.sum(axis=1), applicable
    (array([1, 0]), array([ True, False]))
    """
    if goal not in GOALS:
        raise ValueError(
            f"The 'goal' parameter of make_targets must be a str among {sorted(GOALS)}. "
            f"Got {goal!r} instead."
        )
    Y_pred = np.asarray(Y_pred)
    if Y_pred.ndim != 2:
        raise ValueError(
            f"Y_pred must be an (n_samples, n_labels) {{0, 1}} indicator; got shape "
            f"{Y_pred.shape}."
        )
    Y_pred = check_label_indicator(Y_pred, *Y_pred.shape).astype(int)
    rng = check_random_state(random_state)
    target = Y_pred.copy()
    if goal == "hide_all":
        target[:] = 0
        return target, Y_pred.any(axis=1)
    candidates = Y_pred == 1 if goal == "hide_one" else Y_pred == 0
    applicable = candidates.any(axis=1)
    for i in np.flatnonzero(applicable):
        j = rng.choice(np.flatnonzero(candidates[i]))
        target[i, j] = 0 if goal == "hide_one" else 1
    return target, applicable
