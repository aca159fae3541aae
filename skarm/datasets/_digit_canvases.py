"""Canvases of several handwritten digits: an offline multi-label image-tagging task.

Object tagging (VOC2012, Planet) asks which of m object classes appear in an image. Here the
objects are the 8x8 digits of :func:`sklearn.datasets.load_digits` (shipped with
scikit-learn, nothing is downloaded), pasted at random places on a larger canvas; the labels
say which digit classes appear. As in VOC, labels co-occur through scenes (a canvas draws
its digits from one of a few scene-specific mixtures, as a street scene holds people and
cars), and the images hold clutter that is no object (strokes cut out of other digits).
"""

# Authors: The skarm developers
# SPDX-License-Identifier: BSD-3-Clause

from numbers import Integral, Real

import numpy as np
from sklearn.datasets import load_digits
from sklearn.utils import Bunch, check_random_state

from ..utils._sklearn_compat import Count, Interval, StrOptions, validate_params

__all__ = ["load_digit_canvases"]

_DIGIT = 8  # side of a source digit image

# Scenes: each draws its digits mostly from its own classes (probability _IN_SCENE), else
# from all ten. Shapes that share strokes go together, so that co-occurring labels also look
# alike, as objects of one scene often do (and as aligned label boundaries need).
SCENES = {
    "loops": (0, 6, 8, 9),
    "strokes": (1, 4, 7),
    "curves": (2, 3, 5),
}
_IN_SCENE = 0.8

_DESCR = """\
.. _digit_canvases_dataset:

Digit canvases data set
-----------------------

**Data Set Characteristics:**

:Number of Instances: ``n_samples`` (default 2000), generated with ``random_state``
:Number of Features: ``canvas_size ** 2`` (default 24 x 24 = 576 pixels, float64 in [0, 1])
:Number of Labels: 10 (digit classes 0-9; 1 to ``max_digits`` per canvas)
:Source images: E. Alpaydin, C. Kaynak (UCI optical recognition of handwritten digits,
    test part), as shipped with scikit-learn (``load_digits``)

Each canvas holds 1 to ``max_digits`` digit images pasted at random places (overlaps
keep the brighter pixel), and its labels are the classes that appear. A canvas picks one
of three scenes (loops 0, 6, 8, 9; strokes 1, 4, 7; curves 2, 3, 5) and draws each digit
from the scene's classes with probability 0.8, else from all ten, so labels co-occur as
objects do in VOC. Clutter: ``n_clutter`` random 3x3 to 4x4 fragments of other digit images,
which are not labelled, and Gaussian pixel noise of standard deviation ``noise``.

The 1797 source images are split in two halves first (``source_split``): canvases with
``source="train"`` use only the first half's images and ``source="test"`` only the
second's, so that a model is not tested on the very strokes it was trained on when the
caller keeps the two apart; ``source="all"`` (the default) uses every image.
"""


def _paste(canvas, image, row, col):
    """Paste ``image`` with its top-left corner at (row, col); overlaps keep the brighter."""
    h, w = image.shape
    region = canvas[row : row + h, col : col + w]
    np.maximum(region, image, out=region)


@validate_params(
    {
        "n_samples": [Count(Integral, 1, None, closed="left")],
        "canvas_size": [Count(Integral, _DIGIT, 64, closed="both")],
        "max_digits": [Count(Integral, 1, 10, closed="both")],
        "n_clutter": [Count(Integral, 0, 20, closed="both")],
        "noise": [Interval(Real, 0, 1, closed="both")],
        "source": [StrOptions({"all", "train", "test"})],
        "return_X_y": ["boolean"],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def load_digit_canvases(
    n_samples=2000,
    *,
    canvas_size=24,
    max_digits=4,
    n_clutter=3,
    noise=0.05,
    source="all",
    return_X_y=False,
    random_state=0,
):
    """Generate canvases of several handwritten digits, labelled by the digits they show.

    A multi-label image-tagging task built from the 8x8 digit images that ship with
    scikit-learn (nothing is downloaded): every canvas holds 1 to ``max_digits`` digits
    at random places, drawn from one of three scenes so that labels co-occur, plus
    unlabelled clutter (fragments of other digits) and pixel noise. The labels (10, one
    per digit class) say which classes appear.

    Parameters
    ----------
    n_samples : int, default=2000
        Number of canvases.
    canvas_size : int, default=24
        Side of the square canvas in pixels (8 to 64).
    max_digits : int, default=4
        Most digits on one canvas; each canvas draws its count uniformly from
        1..max_digits.
    n_clutter : int, default=3
        Unlabelled fragments (3x3 to 4x4 cut-outs of other digit images) per canvas.
    noise : float, default=0.05
        Standard deviation of the Gaussian pixel noise (pixels are clipped to [0, 1]).
    source : {"all", "train", "test"}, default="all"
        Which half of the 1797 source images the digits and fragments come from (the
        halves are fixed: a seeded split of the images independent of ``random_state``).
    return_X_y : bool, default=False
        If True, return ``(data, target)`` instead of a Bunch.
    random_state : int, RandomState instance or None, default=0
        Seed of the canvases.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the following attributes.

        data : ndarray of shape (n_samples, canvas_size ** 2)
            The flattened canvases, float64 in [0, 1].
        target : ndarray of shape (n_samples, 10)
            {0, 1} indicator: ``target[i, d] = 1`` if digit ``d`` appears on canvas i.
        images : ndarray of shape (n_samples, canvas_size, canvas_size)
            The canvases.
        target_names : list of str
            ``"digit_0"`` to ``"digit_9"``.
        scene : ndarray of shape (n_samples,)
            Index of the scene of each canvas in ``scene_names``.
        scene_names : list of str
            The scenes (``"loops"``, ``"strokes"``, ``"curves"``).
        image_shape : tuple of int
            ``(canvas_size, canvas_size)``: reshape a row of ``data`` with it.
        DESCR : str
            Description of the data set.

    (data, target) : tuple if ``return_X_y`` is True
        The flattened canvases, shape (n_samples, canvas_size ** 2), and the label
        indicator matrix, shape (n_samples, 10).

    Examples
    --------
    >>> from skarm.datasets import load_digit_canvases
    >>> canvases = load_digit_canvases(n_samples=100, random_state=0)
    >>> canvases.data.shape, canvases.target.shape
    ((100, 576), (100, 10))
    >>> bool(canvases.target.sum(axis=1).min() >= 1)
    True
    """
    digits = load_digits()
    images = digits.images / 16.0
    classes = digits.target
    halves = np.array_split(np.random.RandomState(1797).permutation(len(images)), 2)
    pool = {"all": np.arange(len(images)), "train": halves[0], "test": halves[1]}[source]
    by_class = [pool[classes[pool] == d] for d in range(10)]

    rng = check_random_state(random_state)
    size = int(canvas_size)
    canvases = np.zeros((n_samples, size, size))
    target = np.zeros((n_samples, 10), dtype=np.int64)
    scene_members = [np.array(members) for members in SCENES.values()]
    scene = rng.randint(len(SCENES), size=n_samples)
    span = size - _DIGIT + 1
    for i in range(n_samples):
        canvas = canvases[i]
        for _ in range(rng.randint(1, max_digits + 1)):
            members = scene_members[scene[i]]
            d = int(rng.choice(members) if rng.rand() < _IN_SCENE else rng.randint(10))
            image = images[by_class[d][rng.randint(len(by_class[d]))]]
            _paste(canvas, image, rng.randint(span), rng.randint(span))
            target[i, d] = 1
        for _ in range(n_clutter):
            k = rng.randint(3, 5)
            image = images[pool[rng.randint(len(pool))]]
            r0, c0 = rng.randint(_DIGIT - k + 1, size=2)
            r, c = rng.randint(size - k + 1, size=2)
            _paste(canvas, image[r0 : r0 + k, c0 : c0 + k], r, c)
    if noise > 0:
        canvases += noise * rng.standard_normal(canvases.shape)
    np.clip(canvases, 0.0, 1.0, out=canvases)
    data = canvases.reshape(n_samples, -1)
    if return_X_y:
        return data, target
    return Bunch(
        data=data,
        target=target,
        images=canvases,
        target_names=[f"digit_{d}" for d in range(10)],
        scene=scene,
        scene_names=list(SCENES),
        image_shape=(size, size),
        DESCR=_DESCR,
    )
