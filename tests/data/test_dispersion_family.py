"""The successor's synthetic design (Zhou et al. 2021) as two families on base #1: the image arm
``dispersion-image.1…8`` (S1I1…S1I8: images spread, shapes fixed) and the shape arm
``dispersion-shape.1…8`` (S1I8…S8I8: images fixed at the widest spread, shapes spread)."""

import numpy as np
import pytest
from scipy import stats

from svrlens.data import n_sets, subsample, write_family
from svrlens.data.subsample import DISPERSION_SPREAD
from svrlens.experiments.spec import FamilyStudy
from svrlens.geometry import pairwise_chamfer, pairwise_l1
from svrlens.tendency import dispersion_score

ARMS = ("dispersion-image", "dispersion-shape")


def _arm(base, family):
    """Per set: (image DS, shape DS at K = 2, the set's record)."""
    out = []
    for n in range(1, n_sets(family) + 1):
        arrays, splits, record = subsample(base, family, n)
        train = splits["train"]
        image_ds = dispersion_score(pairwise_l1(arrays["images"][train]), 2).score
        shape_ds = dispersion_score(np.asarray(pairwise_chamfer(arrays["points"][train])), 2).score
        out.append((image_ds, shape_ds, record))
    return out


def _weight_spread(record) -> float:
    """The largest distance (along t) of a training shape from its cluster's centre."""
    t = np.asarray(record["train_shape_weights"])[:, 1]
    centre = np.asarray(record["centres"])[np.asarray(record["train_clusters"]), 1]
    return float(np.abs(t - centre).max())


def test_the_arms_have_the_intended_spreads(small_base):
    assert [n_sets(f) for f in ARMS] == [8, 8] and n_sets("1.2") == 7
    image_arm, shape_arm = _arm(small_base, ARMS[0]), _arm(small_base, ARMS[1])
    levels = np.linspace(0.0, DISPERSION_SPREAD, 8)
    n = np.arange(1, 9)
    # Image arm: the image spread grows 0 → 0.45, the shapes stay the cluster's end shape (S1).
    np.testing.assert_allclose([r["spread"] for *_, r in image_arm], levels)
    assert all(r["shape_spread"] == 0.0 for *_, r in image_arm)
    assert all(_weight_spread(r) < 0.01 for *_, r in image_arm)
    image_ds, shape_ds = np.array([a[0] for a in image_arm]), np.array([a[1] for a in image_arm])
    assert stats.spearmanr(n, image_ds).statistic > 0.9 and image_ds[-1] > 3 * image_ds[0]
    np.testing.assert_array_equal(shape_ds, 0.0)  # one cloud per cluster: K = 2 medoids cover it
    # Shape arm: the images stay at the widest spread (I8), the shape spread grows 0 → 0.45.
    np.testing.assert_allclose([r["shape_spread"] for *_, r in shape_arm], levels)
    assert all(r["spread"] == pytest.approx(DISPERSION_SPREAD) for *_, r in shape_arm)
    spreads = np.array([_weight_spread(r) for *_, r in shape_arm])
    assert stats.spearmanr(n, spreads).statistic > 0.9 and spreads[-1] == pytest.approx(0.45, abs=0.02)
    image_ds, shape_ds = np.array([a[0] for a in shape_arm]), np.array([a[1] for a in shape_arm])
    np.testing.assert_allclose(image_ds, image_ds[0])  # the same training images in every set
    assert stats.spearmanr(n, shape_ds).statistic > 0.9 and shape_ds[-1] > 3 * shape_ds[0]
    # The arms meet at S1I8: the last image-arm set is the first shape-arm set.
    last, first = image_arm[-1][2], shape_arm[0][2]
    assert last["base_indices"] == first["base_indices"]
    assert last["train_shape_indices"] == first["train_shape_indices"]


def test_family_writes_eight_sets_and_studies_default_to_them(small_base, tmp_path):
    paths = write_family(small_base, "dispersion-shape", tmp_path / "fam", figure=False)
    assert [p.name for p in paths] == [f"dispersion-shape.{n}" for n in range(1, 9)]
    assert FamilyStudy("dispersion-image", train=None).sets == tuple(range(1, 9))
    assert FamilyStudy("1.1", train=None).sets == tuple(range(1, 8))
    with pytest.raises(ValueError, match="set number: expected 1…8, found 9"):
        subsample(small_base, "dispersion-image", 9)
