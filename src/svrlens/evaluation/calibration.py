"""Calibration with known answers: idealised predictors run through the diagnosis (issue 13).

An instrument is trusted only on inputs whose answer is known. For a dataset, this builds
predictors whose definition is known by construction and diagnoses each:

- **recognisers** (Definition 1): the medoid training shape of the training-shape cluster the
  truth falls into — its training cloud as stored ("exact"), with Gaussian jitter on every point
  ("noisy σ"), a fresh sample of its surface ("fresh"), or a farthest-point subsample of a fresh
  4× denser sample ("regular": points spread as evenly as a network's folded grid spreads them);
- **reconstructors** (Definition 2): the truth's own training-density cloud ("exact"), with jitter
  ("noisy σ"), a regular sample of the truth's surface ("regular", as above), or a fresh sample of
  a shape displaced along the morph ("shape noise σ", synthetic data only);
- **interpolators** (synthetic data): the shape at weights ``w' ∝ w^k`` (k = 1: the identity, a
  reconstructor; k → ∞: the nearest base shape, a step — recognition of the base shapes), from
  identity to step;
- **collapse**: one training shape for every image, as stored and with jitter.

Fresh samples come from the shapes' surfaces, never from the clouds the diagnosis scores against:
the synthetic family's generator, or the user's mesh files.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from svrlens.errors import InputError

from .config import EvaluationConfig

OVERSAMPLING = 4  # a regular predictor's farthest-point subsample is drawn from 4× its points
JITTER = (0.02, 0.04)  # fractions of the truths' mean bounding-box side
SHAPE_NOISE = (0.05,)  # standard deviation in morph weight
SHARPNESS = (1, 2, 4, 8, 32)
EXPECTED = {"recognition": "recognition", "reconstruction": "reconstruction", "collapse": "collapsed"}


def _family_sampler(dataset):
    """(weights (B, K), n, rng) → fresh clouds, for a synthetic base or subsampled set; else None."""
    from svrlens.data.synth import MorphFamily, SynthConfig

    parameters = dataset.manifest.get("parameters") or {}
    generator = str(dataset.manifest.get("generator", ""))
    if generator.startswith("svrlens.data.synth"):
        synth = parameters
    elif generator.startswith("svrlens.data.subsample") and parameters.get("base_parameters"):
        synth = parameters["base_parameters"]
    else:
        return None
    known = set(SynthConfig.__dataclass_fields__)
    family = MorphFamily(SynthConfig(**{k: v for k, v in synth.items() if k in known}))
    return lambda weights, n, rng: family.sample(np.asarray(weights, np.float64), n, rng)


def _train_shape_weights(dataset, train_index: np.ndarray):
    parameters = dataset.manifest.get("parameters") or {}
    if parameters.get("train_shape_weights") is not None:
        return np.asarray(parameters["train_shape_weights"], np.float64)
    return None if dataset.morph is None else np.asarray(dataset.morph[train_index], np.float64)


def _mesh_sampler(dataset):
    """index → fresh samples of a user folder's mesh file, or None when shapes are not meshes."""
    from svrlens.data.clouds import SHAPE_SUFFIXES, _load_mesh_or_cloud, _sample_mesh

    names = dataset.manifest.get("names")
    if dataset.path is None or names is None or not (Path(dataset.path) / "shapes").is_dir():
        return None
    shapes = Path(dataset.path) / "shapes"
    files = {p.stem: p for p in shapes.iterdir() if p.suffix.lower() in SHAPE_SUFFIXES}

    def sample(index: int, n: int, rng):
        mesh, _ = _load_mesh_or_cloud(files[names[index]])
        if mesh is None:
            raise InputError("not a mesh: no fresh samples of its surface", files[names[index]])
        return _sample_mesh(mesh, n, rng).astype(np.float32)

    return sample


def idealised_predictors(dataset, *, seed: int = 0, chamfer_matrix=None) -> dict:
    """Predictions (N_test, P, 3) of every idealised predictor the dataset allows
    (``chamfer_matrix``: as in :func:`svrlens.evaluation.diagnose`).

    Returns ``{name: {"kind": "recognition" | "reconstruction" | "collapse" | "interpolator",
    "parameter": float or None, "points": ndarray}}``.
    """
    from svrlens.tendency import clustering_tendency

    from .baselines import cluster_medoids
    from .references import centre, default_chamfer, excess_matrix, make_references, shape_distances

    train_index = np.asarray(dataset.splits["train"])
    train, test = dataset.subset("train"), dataset.subset("test")
    train_points, test_points = np.asarray(train.points), np.asarray(test.points)
    train_dense = None if train.dense is None else np.asarray(train.dense)
    chamfer = chamfer_matrix or default_chamfer()
    centred_train, centred_dense, centred_test = centre(train_points, train_dense, test_points)
    references = make_references(centred_train, centred_dense, chamfer)
    distances = shape_distances(references, chamfer)
    labels = clustering_tendency(distances, random_state=seed, n_bootstrap=1).labels
    medoids = cluster_medoids(distances, labels)
    truth_cluster = labels[excess_matrix(centred_test, references, chamfer).argmin(1)]
    emitted = medoids[truth_cluster]  # the recogniser's output: its cluster's medoid shape
    rng = np.random.default_rng([seed, 43])
    side = float(np.mean(np.ptp(test_points, axis=1).max(1)))
    n, points = len(test_points), test_points.shape[1]
    out = {"exact recogniser": _entry("recognition", None, train_points[emitted])}
    for sigma in JITTER:
        out[f"noisy recogniser σ={sigma:g}"] = _entry(
            "recognition", sigma, train_points[emitted] + rng.normal(0, sigma * side, (n, points, 3))
        )
        out[f"noisy reconstructor σ={sigma:g}"] = _entry(
            "reconstruction", sigma, test_points + rng.normal(0, sigma * side, (n, points, 3))
        )
    out["exact reconstructor"] = _entry("reconstruction", None, test_points)
    single = medoids[np.bincount(labels).argmax()]  # the largest cluster's medoid
    out["collapse"] = _entry("collapse", None, np.repeat(train_points[single][None], n, 0))
    out["collapse with jitter"] = _entry(
        "collapse", JITTER[-1], train_points[single][None] + rng.normal(0, JITTER[-1] * side, (n, points, 3))
    )
    out |= _fresh_predictors(dataset, train_index, emitted, points, rng)
    return out


def _entry(kind: str, parameter, points) -> dict:
    return {"kind": kind, "parameter": parameter, "points": np.asarray(points, np.float32)}


def _fresh_predictors(dataset, train_index, emitted, points: int, rng) -> dict:
    """The predictors that need fresh samples of the shapes' surfaces (a synthetic family's
    generator or a user's mesh files); none when the shapes are clouds only."""
    out = {}
    family = _family_sampler(dataset)
    test_index = np.asarray(dataset.splits["test"])
    if family is not None:
        shape_weights = _train_shape_weights(dataset, train_index)
        weights = np.asarray(dataset.morph[test_index], np.float64)
        out["fresh recogniser"] = _entry("recognition", None, family(shape_weights[emitted], points, rng))
        for sigma in SHAPE_NOISE:
            if weights.shape[1] == 2:
                t = np.clip(weights[:, 1] + rng.normal(0, sigma, len(weights)), 0, 1)
                displaced = np.stack([1 - t, t], 1)
            else:
                displaced = np.clip(weights + rng.normal(0, sigma, weights.shape), 1e-6, None)
                displaced /= displaced.sum(1, keepdims=True)
            out[f"shape-noise reconstructor σ={sigma:g}"] = _entry(
                "reconstruction", sigma, family(displaced, points, rng)
            )
        for k in SHARPNESS:
            powered = np.clip(weights, 0, None) ** k
            sharpened = powered / np.maximum(powered.sum(1, keepdims=True), 1e-300)
            out[f"interpolator k={k}"] = _entry("interpolator", float(k), family(sharpened, points, rng))

        def sample_family(which, n):
            return family(which, n, rng)

        return out | _regular_predictors(sample_family, shape_weights[emitted], weights, points, rng)
    meshes = _mesh_sampler(dataset)
    if meshes is not None:
        try:
            clouds = [meshes(int(train_index[j]), points, rng) for j in emitted]
        except InputError:
            return out
        out["fresh recogniser"] = _entry("recognition", None, np.stack(clouds))

        def sample(indices, n):
            return np.stack([meshes(int(i), n, rng) for i in indices])

        out |= _regular_predictors(sample, train_index[emitted], test_index, points, rng)
    return out


def _regular_predictors(sample, recognised, truths, points: int, rng) -> dict:
    """The regular recogniser and reconstructor: farthest-point subsamples of fresh samples
    ``sample(which, n)`` of the recognised training shapes and of the truths (each (N, n, 3))."""
    from svrlens.data.sampling import farthest_point_sample

    def regular(which):
        return farthest_point_sample(sample(which, OVERSAMPLING * points), points, rng)

    return {
        "regular recogniser": _entry("recognition", None, regular(recognised)),
        "regular reconstructor": _entry("reconstruction", None, regular(truths)),
    }


def instrument_readings(result: dict) -> dict:
    """What every instrument reads on one diagnosis: the output tendency (mean silhouette of the
    predictions, eq. 10), the DS ratio per K (None where undefined), C_T with its p-value (None
    where undecidable), the global Z_U of the predictions' own excesses (``copying_unlanded``: what
    C_T read before it landed predictions on truths), and the Case from the training data."""
    return {
        "output_tendency": result["output_tendency"]["score"],
        "dispersion_ratio": {str(r["k"]): r["value"] for r in result["dispersion"]["ratio"]},
        "copying": result["copying"]["statistic"],
        "copying_p": result["copying"]["p_value"],
        "copying_unlanded": result["copying"]["unlanded"]["z_u"],
        "case": result["case"],
    }


def calibrate(
    dataset,
    *,
    out_dir=None,
    config: EvaluationConfig | None = None,
    chamfer_matrix=None,
    only=None,
    progress: bool = False,
) -> dict:
    """Diagnose every idealised predictor of ``dataset`` (a Dataset or a path); returns
    ``{"rows": [...], "dataset": ...}`` with, per predictor, its kind, expected verdict (None for
    interpolators), verdict, statistic value and interval, global gain, model Chamfer, and the
    field's other instruments beside the verdict (:func:`instrument_readings`); writes
    ``calibration.json`` and ``calibration.png`` under ``out_dir`` when given.

    ``chamfer_matrix`` is passed to :func:`svrlens.evaluation.diagnose`; ``only`` (names of
    predictors) restricts the run to those.
    """
    from tqdm.auto import tqdm

    from svrlens.data import Dataset
    from svrlens.data.folder import open_dataset
    from svrlens.io import write_json

    from .diagnosis import diagnose

    data = dataset if isinstance(dataset, Dataset) else open_dataset(dataset)
    for split in ("train", "test"):
        if len(data.splits.get(split, [])) < 3:
            raise InputError(f"calibration needs ≥ 3 samples in the {split!r} split", data.path)
    config = replace(
        config or EvaluationConfig(), null_references=1
    ).validate()  # the calls are not calibrated here
    predictors = idealised_predictors(data, seed=config.seed, chamfer_matrix=chamfer_matrix)
    if only is not None:
        predictors = {name: p for name, p in predictors.items() if name in set(only)}
    train, test = data.subset("train"), data.subset("test")
    rows = []
    for name, predictor in tqdm(predictors.items(), disable=not progress, desc="calibrate", unit="predictor"):
        result = diagnose(train, test, predictor["points"], config=config, chamfer_matrix=chamfer_matrix)
        statistic = result["statistic"]
        rows.append(
            {
                "name": name,
                "kind": predictor["kind"],
                "parameter": predictor["parameter"],
                "expected": EXPECTED.get(predictor["kind"]),
                "verdict": result["verdict"],
                "value": statistic["value"],
                "interval": statistic["interval"],
                "global": statistic["global"]["value"],
                "form": statistic["form"],
                "chamfer": result["model"]["chamfer"],
                "excess": result["model"]["excess"],
                **instrument_readings(result),
            }
        )
    report = {"dataset": str(data.path), "rows": rows, "sampling_floor": None}
    if out_dir is not None:
        from .figures import calibration_figure

        out = Path(out_dir)
        write_json(out / "calibration.json", report)
        calibration_figure(rows, out / "calibration.png")
    return report
