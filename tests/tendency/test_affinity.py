import warnings

import numpy as np
import pytest
import torch
from scipy.spatial.distance import cdist
from sklearn.cluster import AffinityPropagation as SkAffinityPropagation
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import adjusted_rand_score

from svrlens.tendency import AdaptiveAffinityPropagation, AffinityPropagation
from svrlens.tendency._similarity import similarities
from svrlens.tendency.affinity import _iterate, _messages_for
from tests.conftest import DEVICES

CENTRES = [[0, 0], [10, 0], [0, 10], [10, 10], [5, 5]]


def blobs(n, seed=0, std=0.8):
    points, truth = make_blobs(n, centers=CENTRES, cluster_std=std, random_state=seed)
    return cdist(points, points), truth


def sklearn_fit(d, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return SkAffinityPropagation(affinity="precomputed", random_state=0, **params).fit(-d)


@pytest.mark.parametrize("backend", ["numba", "torch"])
def test_float64_reproduces_scikit_learn_exactly(backend):
    """Median preference, damping 0.5: the same iterations and the same partition."""
    d, _ = blobs(400)
    sk = sklearn_fit(d)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = AffinityPropagation(dtype=torch.float64, backend=backend).fit(d)
    assert ours.n_iter_ == sk.n_iter_
    assert adjusted_rand_score(sk.labels_, ours.labels_) == 1.0
    np.testing.assert_array_equal(ours.cluster_centers_indices_, sk.cluster_centers_indices_)
    assert ours.preference_ == pytest.approx(np.median(-d))


@pytest.mark.parametrize("backend", ["numba", "torch"])
@pytest.mark.parametrize("preference,damping", [(-60.0, 0.75), (-150.0, 0.9), (-30.0, 0.6)])
def test_float32_same_partition_with_other_preference_and_damping(backend, preference, damping):
    d, truth = blobs(600, seed=3)
    sk = sklearn_fit(d, preference=preference, damping=damping)
    ours = AffinityPropagation(preference=preference, damping=damping, backend=backend).fit(d)
    assert adjusted_rand_score(sk.labels_, ours.labels_) == 1.0
    assert ours.converged_


@pytest.mark.parametrize("device", DEVICES)
def test_torch_input_on_device(device):
    d, truth = blobs(300)
    ours = AffinityPropagation(preference=-60.0, damping=0.75, device=device).fit(
        torch.from_numpy(d).to(device)
    )
    assert adjusted_rand_score(truth, ours.labels_) == 1.0


def test_non_convergence_warns_and_falls_back():
    d, _ = blobs(200)
    with pytest.warns(ConvergenceWarning, match="did not converge in 2 iterations"):
        ap = AffinityPropagation(max_iter=2).fit(d)
    assert not ap.converged_ and ap.n_iter_ == 2
    assert ap.labels_.shape == (200,) and ap.labels_.min() >= 0
    assert len(ap.cluster_centers_indices_) == ap.labels_.max() + 1


def test_deterministic_under_random_state():
    d, _ = blobs(300)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        runs = [AffinityPropagation(random_state=7).fit(d).labels_ for _ in range(2)]
    np.testing.assert_array_equal(*runs)


def test_degenerate_inputs():
    one = AffinityPropagation().fit(np.zeros((1, 1)))
    assert one.labels_.tolist() == [0] and one.n_iter_ == 0
    equal = 1.0 - np.eye(4)
    assert AffinityPropagation().fit(equal).labels_.tolist() == [0, 0, 0, 0]  # median −1 ≤ −1: one cluster
    assert AffinityPropagation(preference=0.0).fit(equal).labels_.tolist() == [0, 1, 2, 3]
    two = np.array([[0.0, 3.0], [3.0, 0.0]])
    assert AffinityPropagation(preference=-1.0).fit(two).labels_.tolist() == [0, 1]
    assert AffinityPropagation(preference=-5.0).fit(two).labels_.tolist() == [0, 0]


def test_exact_ties_converge_like_scikit_learn():
    """Two triples of identical samples: scikit-learn converges in 67 iterations."""
    d = np.zeros((6, 6))
    d[:3, 3:] = d[3:, :3] = 40 / 255
    sk = sklearn_fit(d, preference=-0.039)
    for dtype in (torch.float64, torch.float32):
        ours = AffinityPropagation(preference=-0.039, dtype=dtype).fit(d)
        assert ours.converged_ and ours.labels_.tolist() == sk.labels_.tolist() == [0, 0, 0, 1, 1, 1]
    # float32 keeps enough tie-breaking noise to converge whatever the seed.
    assert all(
        AffinityPropagation(preference=-0.039, random_state=seed).fit(d).converged_ for seed in range(12)
    )


def test_duplicated_samples_are_handled():
    """Exact ties (ten identical cube clouds, ten identical sphere clouds, as in set 1.2)."""
    d = np.zeros((20, 20))
    d[:10, 10:] = d[10:, :10] = 0.3
    ada = AdaptiveAffinityPropagation().fit(d)
    assert adjusted_rand_score(np.repeat([0, 1], 10), ada.labels_) == 1.0
    assert ada.silhouette_ == pytest.approx(1.0)


def test_adaptive_recovers_five_blobs_where_median_preference_over_splits():
    d, truth = blobs(1000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        plain = AffinityPropagation().fit(d)
    assert len(plain.cluster_centers_indices_) > 5
    ada = AdaptiveAffinityPropagation().fit(d)
    assert len(ada.cluster_centers_indices_) == 5
    assert adjusted_rand_score(truth, ada.labels_) > 0.99
    ks = [step.n_clusters for step in ada.scan_]
    assert ks[-1] <= 1 and 5 in ks
    best = max((s for s in ada.scan_ if s.silhouette is not None), key=lambda s: s.silhouette)
    assert best.preference == ada.preference_ and best.silhouette == ada.silhouette_


def test_the_over_splitting_quoted_in_the_docs_at_n_1000():
    """README and AdaptiveAffinityPropagation's docstring: 30 clusters at damping 0.75 (as
    scikit-learn), 35 at the default 0.5, on the benchmark's five blobs."""
    d, _ = blobs(1000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        assert len(AffinityPropagation(damping=0.75).fit(d).cluster_centers_indices_) == 30
        assert len(sklearn_fit(d, damping=0.75).cluster_centers_indices_) == 30
        assert len(AffinityPropagation().fit(d).cluster_centers_indices_) == 35


def test_adaptive_recovers_clusters_of_one_dimensional_morph_data(rng):
    """Five tight clusters along the morph parameter t (like set 1.1.1)."""
    t = np.repeat(np.linspace(0, 1, 5), 20) + rng.normal(0, 0.01, 100)
    ada = AdaptiveAffinityPropagation().fit(np.abs(t[:, None] - t[None, :]))
    assert len(ada.cluster_centers_indices_) == 5
    assert adjusted_rand_score(np.repeat(np.arange(5), 20), ada.labels_) == 1.0


def test_adaptive_damping_rises_on_oscillation():
    d, _ = blobs(400)
    S, median, noise = similarities(d, "float32", "cpu", 0)
    messages = _messages_for(S, "auto")
    messages.set_diagonal(noise.diagonal(-50.0))
    plain = _iterate(messages, 400, 0.5, 300, 15)
    assert not plain.converged and plain.damping == 0.5
    messages = _messages_for(similarities(d, "float32", "cpu", 0)[0], "auto")
    messages.set_diagonal(noise.diagonal(-50.0))
    adaptive = _iterate(messages, 400, 0.5, 300, 15, adaptive=(0.05, 0.85, 30))
    assert adaptive.converged and 0.5 < adaptive.damping <= 0.85


@pytest.mark.parametrize(
    "params,message",
    [
        ({"damping": 0.3}, r"damping: expected a value in \[0.5, 1\), found 0.3"),
        ({"damping": 1.0}, "damping"),
        ({"max_iter": 0}, "max_iter and convergence_iter: expected ≥ 1"),
        ({"preference": float("nan")}, "preference: expected a finite number"),
        ({"dtype": torch.int32}, "dtype: expected float32 or float64"),
        ({"dtype": None}, "dtype: expected float32 or float64"),
        ({"backend": "gpu"}, "backend: expected 'auto', 'numba' or 'torch'"),
    ],
)
def test_parameter_errors(params, message):
    with pytest.raises(ValueError, match=message):
        AffinityPropagation(**params).fit(1 - np.eye(3) + np.array([[0, 1, 0], [1, 0, 0], [0, 0, 0]]))


@pytest.mark.parametrize("backend", ["numba", "torch"])
def test_many_exact_copies_of_a_few_shapes(backend):
    """A recognising network's predictions: 200 copies of two clouds (AP alone: K = 44, no convergence)."""
    copies = np.repeat([0, 1], [88, 112])
    d = np.where(copies[:, None] == copies[None, :], 0.0, 0.47)
    plain = AffinityPropagation(backend=backend).fit(d)
    assert plain.converged_ and adjusted_rand_score(copies, plain.labels_) == 1.0
    assert set(plain.cluster_centers_indices_.tolist()) == {0, 88}
    ada = AdaptiveAffinityPropagation(backend=backend).fit(d)
    assert ada.silhouette_ == pytest.approx(1.0) and adjusted_rand_score(copies, ada.labels_) == 1.0
    three = np.repeat([0, 1, 2], [50, 60, 70])
    points = np.array([0.0, 1.0, 5.0])[three]
    ada = AdaptiveAffinityPropagation(backend=backend).fit(np.abs(points[:, None] - points[None]))
    assert adjusted_rand_score(three, ada.labels_) == 1.0


def test_dtype_by_name_numpy_or_torch_is_the_same_run():
    """The CPU path takes a dtype without importing torch; every spelling gives the same fit."""
    d, _ = blobs(120)
    fits = [AffinityPropagation(dtype=dtype).fit(d) for dtype in ("float64", np.float64, torch.float64)]
    for fit in fits[1:]:
        np.testing.assert_array_equal(fit.labels_, fits[0].labels_)
        assert fit.n_iter_ == fits[0].n_iter_
    single = AffinityPropagation().fit(d)  # the default is float32
    np.testing.assert_array_equal(single.labels_, AffinityPropagation(dtype=torch.float32).fit(d).labels_)
