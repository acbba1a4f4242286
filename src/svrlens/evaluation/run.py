"""File-level entry points: ``svrlens diagnose`` (any model's predictions) and ``svrlens evaluate``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from svrlens.data import Dataset
from svrlens.data.folder import open_dataset
from svrlens.errors import InputError
from svrlens.io import load_npz, numeric_array, write_json, write_text
from svrlens.training.rundir import read_dataset_record

from .config import EvaluationConfig
from .diagnosis import diagnose
from .summary import format_summary


def _prediction_folder(path: Path, test_names) -> np.ndarray:
    """One cloud file per test sample, ``NAME.ply|obj|off|npy|npz`` (NAME may contain folders);
    all resampled (with a warning) to the point count of the first (meshes give 1024 samples)."""
    import warnings

    from svrlens.data.clouds import SHAPE_SUFFIXES, raw_cloud, resample

    if test_names is None:
        raise InputError("a folder of predictions needs a test set with names (a user folder)", path)
    # Names may be nested ("cat/model/view" for What3D: its predictions mirror points/); suffixes
    # match in any case (NAME.PLY from another tool is NAME.ply).
    listed = {}
    for folder in {(path / n).parent for n in test_names}:
        found = {}
        if folder.is_dir():
            for file in sorted(folder.iterdir()):
                if file.suffix.lower() in SHAPE_SUFFIXES and file.is_file():
                    found.setdefault(file.stem, file)
        listed[folder] = found
    files = {n: listed[(path / n).parent].get(Path(n).name) for n in test_names}
    missing = [n for n in test_names if files[n] is None]
    if missing:
        raise InputError(f"no prediction for {len(missing)} test samples (first: {missing[0]!r})", path)
    clouds = [raw_cloud(files[n], np.random.default_rng([0, k])) for k, n in enumerate(test_names)]
    size = len(clouds[0])
    resized = [resample(c, size, np.random.default_rng([1, k])) for k, c in enumerate(clouds)]
    if any(flag for _, flag in resized):
        warnings.warn(
            f"{sum(flag for _, flag in resized)} predicted clouds resampled to {size} points", stacklevel=3
        )
    return np.stack([c for c, _ in resized])


def _matching(arrays: dict, n_points: int, n_test: int, test_indices, test_names, path):
    """Rows of the predictions in test order (None: as stored), from their ``names`` (a user
    folder's samples) or ``indices`` (into the dataset); each checked for type and duplicates."""
    if "names" in arrays and test_names is not None:
        names = arrays["names"]
        if names.dtype.kind not in "US" or names.shape != (n_points,):
            raise InputError(f"names: expected {n_points} strings, found {names.dtype} {names.shape}", path)
        position = {str(n): k for k, n in enumerate(names)}
        if len(position) != n_points:
            raise InputError("names: expected one prediction per name, found a name repeated", path)
        missing = [n for n in test_names if n not in position]
        if missing:
            raise InputError(
                f"no prediction named {missing[0]!r} ({len(missing)} test samples unmatched)", path
            )
        return [position[n] for n in test_names]
    if "indices" in arrays and len(arrays["indices"]) == n_points:
        indices = numeric_array(arrays["indices"], path, "indices", kinds="iu")
        if indices.ndim != 1:
            raise InputError(f"indices: expected shape ({n_points},), found {indices.shape}", path)
        position = {int(i): k for k, i in enumerate(indices)}
        if len(position) != n_points:
            raise InputError("indices: expected one prediction per sample, found an index repeated", path)
        missing = [int(i) for i in test_indices if int(i) not in position]
        if missing:
            raise InputError(
                f"no prediction for {len(missing)} test samples (first: index {missing[0]})", path
            )
        return [position[int(i)] for i in test_indices]
    if n_points != n_test:
        raise InputError(f"expected {n_test} predictions (one per test sample), found {n_points}", path)
    return None


def load_predictions(
    path, n_test: int, test_indices: np.ndarray, *, test_names=None, with_codewords: bool = False
):
    """Predicted points (N_test, P, 3) in the test split's order, from

    - a PRED.npz: ``points``, optional ``codewords``, and ``indices`` (into the dataset) or
      ``names`` (of a user folder's samples) to match the test samples; or in test order;
    - a folder of ``NAME.ply|obj|off|npy|npz``, one per test sample of a user folder.

    Never unpickles; errors name the file. With ``with_codewords``: (points, codewords or None).
    """
    path = Path(path)
    if path.is_dir():
        points = _within_range(_prediction_folder(path, test_names), path)
        return (points, None) if with_codewords else points
    if not path.is_file():
        raise InputError("no such predictions file", path)
    arrays = load_npz(path, required=("points",), optional=("codewords", "indices", "names"))
    points = numeric_array(arrays["points"], path, "points")
    if points.ndim != 3 or points.shape[-1] != 3 or points.shape[1] == 0:
        raise InputError(f"points: expected shape (N, P, 3), found {points.shape}", path)
    if not np.isfinite(points).all():
        raise InputError("points contain NaN or inf", path)
    _within_range(points, path)
    codewords = arrays.get("codewords")
    if codewords is not None and (
        codewords.dtype.kind not in "iuf"
        or codewords.ndim != 2
        or len(codewords) != len(points)
        or not np.isfinite(codewords).all()
    ):
        raise InputError(
            f"codewords: expected finite real numbers (N, D) with N = {len(points)}, "
            f"found {codewords.dtype} {codewords.shape}",
            path,
        )
    take = _matching(arrays, len(points), n_test, test_indices, test_names, path)
    if take is not None:
        points = points[take]
        codewords = None if codewords is None else codewords[take]
    points = points.astype(np.float32)
    return (points, codewords) if with_codewords else points


def run_diagnosis(
    train_dataset,
    predictions,
    *,
    test_dataset=None,
    out_dir=None,
    config: EvaluationConfig | None = None,
    cache_dir=None,
    chamfer_matrix=None,
    data_chamfer_matrix=None,
    save_matrices: bool = False,
    image_features=None,
    progress: bool = False,
) -> dict:
    """Diagnose predictions for the test split of ``test_dataset`` (default: ``train_dataset``),
    against the training split of ``train_dataset``; write ``diagnosis.json``, ``summary.txt``
    and ``figures/`` under ``out_dir`` (when given).

    Parameters
    ----------
    train_dataset, test_dataset : path or Dataset
        A svrlens dataset directory, a user folder, a What3D or Occupancy Networks folder.
    predictions : path
        A PRED.npz or a folder of per-sample clouds (:func:`load_predictions`).
    config : EvaluationConfig, optional
    cache_dir : path, optional
        Compute every Chamfer matrix in resumable blocks there (large data; a killed run resumes).
    chamfer_matrix, data_chamfer_matrix : callable, optional
        As in :func:`svrlens.evaluation.diagnose` (not with ``cache_dir``).
    image_features : torch module or callable, optional
        As in :func:`svrlens.evaluation.diagnose`: feature ℓ1 between training images.
    """
    if cache_dir is not None and Path(cache_dir).exists() and not Path(cache_dir).is_dir():
        raise InputError("--cache: expected a directory, found a file", cache_dir)
    train = train_dataset if isinstance(train_dataset, Dataset) else open_dataset(train_dataset)
    test = train if test_dataset is None else open_dataset(test_dataset)
    test_index = np.asarray(test.splits.get("test", []), np.int64)
    if len(test_index) == 0:
        raise InputError("no test samples (empty 'test' split)", test.path)
    names = test.manifest.get("names")
    test_names = None if names is None else [names[i] for i in test_index]
    points, codewords = load_predictions(
        predictions, len(test_index), test_index, test_names=test_names, with_codewords=True
    )
    if cache_dir is not None:
        from .blocks import cached_chamfer_matrix

        chamfer_matrix = cached_chamfer_matrix(cache_dir, progress=progress)
    result = diagnose(
        train.subset("train"),
        test.subset("test"),
        points,
        config=config,
        codewords=codewords,
        figures_dir=None if out_dir is None else Path(out_dir) / "figures",
        chamfer_matrix=chamfer_matrix,
        data_chamfer_matrix=data_chamfer_matrix,
        save_matrices=save_matrices,
        image_features=image_features,
        progress=progress,
    )
    result["provenance"] |= {
        "train_dataset": str(train.path),
        "train_sha256": train.manifest.get("sha256"),
        "test_dataset": str(test.path),
        "predictions": str(predictions),
    }
    if out_dir is not None:
        out = Path(out_dir)
        write_json(out / "diagnosis.json", result)
        write_text(out / "summary.txt", format_summary(result) + "\n")
    return result


def evaluate_run(run_dir, *, out_dir=None, config: EvaluationConfig | None = None, progress=False) -> dict:
    """Diagnose a svrlens training run (its ``predictions/test.npz`` on its own dataset)."""
    run = Path(run_dir)
    record = run / "dataset.json"
    if not record.is_file():
        raise InputError("not a svrlens run directory (dataset.json is missing)", run)
    stored = read_dataset_record(record)
    if not isinstance(stored.get("path"), str):
        raise InputError('expected an object with the dataset\'s "path" (a string)', record)
    return run_diagnosis(
        stored["path"],
        run / "predictions" / "test.npz",
        out_dir=out_dir or run / "diagnosis",
        config=config,
        progress=progress,
    )


def _within_range(points: np.ndarray, path) -> np.ndarray:
    """``points`` unchanged, or an InputError naming ``path`` (:func:`.diagnosis.coordinate_problem`)."""
    from .diagnosis import coordinate_problem

    problem = coordinate_problem(points)
    if problem:
        raise InputError(f"points: {problem}", path)
    return points
