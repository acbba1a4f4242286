"""Every instrument on idealised predictors whose answer is known, across the sets 1.1.n and 1.2.n.

    python examples/instruments_on_known_answers.py --out instruments       # base #1 at 64 px
    python examples/instruments_on_known_answers.py --out tiny --quick      # a smoke run (minutes)

For each set it runs :func:`svrlens.evaluation.calibration.calibrate` on a few idealised
predictors (recognisers: Definition 1; reconstructors: Definition 2; a collapse) and records what
each instrument reads — the within-cluster gain (the verdict), the output tendency (mean
silhouette, eq. 10), the dispersion-score ratio DS(predictions) / DS(test truths) per K and the
copying test C_T — plus, once per set, the Case from the training images and shapes with the
full null reference. Seeds 1 and 2 repeat the exact recogniser and reconstructor (their clouds
are fixed, so only the clusterings and bootstraps change): the instruments' stability across
seeds. Chamfer matrices are cached on disk by content (the test truths' matrices are shared by
every set and predictor), so an interrupted run resumes. Rows go to ``OUT/rows.jsonl``; the
table is printed at the end.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np

from svrlens._machine import cpu_model
from svrlens.data import SynthConfig, generate, load_dataset, subsampled_dataset
from svrlens.evaluation import EvaluationConfig, diagnose
from svrlens.evaluation.calibration import calibrate, idealised_predictors
from svrlens.evaluation.references import default_chamfer

PREDICTORS = (
    "exact recogniser",
    "fresh recogniser",
    "noisy recogniser σ=0.02",
    "exact reconstructor",
    "noisy reconstructor σ=0.02",
    "collapse",
)
STABILITY = ("exact recogniser", "exact reconstructor")


def cached_chamfer(root: Path):
    """``chamfer_matrix(a, b=None)`` that keeps every matrix on disk, keyed by the inputs' bytes,
    and computes the rows of repeated clouds once (a recogniser's outputs are a few clouds)."""
    compute = default_chamfer()
    root.mkdir(parents=True, exist_ok=True)

    def key(array) -> str:
        array = np.ascontiguousarray(array, np.float32)
        return hashlib.sha1(array.tobytes() + str(array.shape).encode()).hexdigest()[:20]

    def unique(clouds):
        flat = np.ascontiguousarray(clouds, np.float32).reshape(len(clouds), -1)
        _, first, inverse = np.unique(flat, axis=0, return_index=True, return_inverse=True)
        return np.asarray(clouds)[first], inverse.ravel()

    def chamfer_matrix(a, b=None):
        path = root / f"{key(a)}-{'self' if b is None else key(b)}.npy"
        if path.is_file():
            return np.load(path)
        rows, inverse = unique(a)
        if b is None:
            out = np.asarray(compute(rows))[np.ix_(inverse, inverse)]
        else:
            out = np.asarray(compute(rows, b))[inverse]
        np.save(path, out)
        return out

    return chamfer_matrix


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", required=True)
    parser.add_argument("--base", help="base #1 dataset directory (default: generated at 64 px under --out)")
    parser.add_argument("--quick", action="store_true", help="a 200-shape base at 32 px, sets n = 1 and 7")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.base:
        base = load_dataset(args.base)
    elif args.quick:
        base = generate(
            SynthConfig(n_shapes=200, image_size=32, n_points=128, dense_points=512), progress=False
        )
    else:
        path = out / "base1"
        if not (path / "manifest.json").is_file():
            generate(SynthConfig(image_size=64), progress=True).save(path)
        base = load_dataset(path)
    chamfer = cached_chamfer(out / "chamfer-cache")
    config = EvaluationConfig(n_bootstrap=200 if not args.quick else 50)
    rows_path = out / "rows.jsonl"
    done = set()
    if rows_path.is_file():
        for line in rows_path.read_text().splitlines():
            row = json.loads(line)
            done.add((row["set"], row.get("name", "case"), row["seed"]))
    sets = (1, 7) if args.quick else range(1, 8)
    print(f"CPU: {cpu_model()}")
    for family in ("1.1", "1.2"):
        for n in sets:
            name = f"{family}.{n}"
            data = subsampled_dataset(base, family, n)
            if (name, "case", 0) not in done:  # the Case, with the full null reference (20 sets)
                predictions = idealised_predictors(data, chamfer_matrix=chamfer)["exact reconstructor"][
                    "points"
                ]
                result = diagnose(
                    data.subset("train"),
                    data.subset("test"),
                    predictions,
                    config=config,
                    chamfer_matrix=chamfer,
                )
                _write(
                    rows_path,
                    {
                        "set": name,
                        "name": "case",
                        "seed": 0,
                        "case": result["case"],
                        "images": result["image_tendency"]["score"],
                        "shapes": result["shape_tendency"]["score"],
                        "dispersion": {
                            r: [e["score"] for e in result["dispersion"][r]["sweep"]]
                            for r in ("images", "shapes", "test_truths")
                        },
                        "ks": result["dispersion"]["ks"],
                    },
                )
            for seed, names in ((0, PREDICTORS), (1, STABILITY), (2, STABILITY)):
                todo = [p for p in names if (name, p, seed) not in done]
                if not todo:
                    continue
                started = time.perf_counter()
                report = calibrate(data, config=replace(config, seed=seed), chamfer_matrix=chamfer, only=todo)
                for row in report["rows"]:
                    _write(rows_path, {"set": name, "seed": seed, **row})
                print(
                    f"{name} seed {seed}: {len(todo)} predictors in {time.perf_counter() - started:.0f} s",
                    flush=True,
                )
    print_table(rows_path)


def _write(path: Path, row: dict) -> None:
    with open(path, "a") as handle:
        handle.write(json.dumps(row) + "\n")


def print_table(rows_path: Path) -> None:
    rows = [json.loads(line) for line in rows_path.read_text().splitlines()]
    cases = {r["set"]: r["case"] for r in rows if r["name"] == "case"}
    print(
        f"{'set':6s} {'case':>4s} {'predictor':34s} {'seed':>4s} {'gain':>6s} {'output':>6s} "
        f"{'DS@2':>6s} {'DS@5':>6s} {'C_T':>7s} {'verdict':>15s}"
    )
    for r in rows:
        if r["name"] == "case":
            continue
        ratio = r["dispersion_ratio"]
        ds = [("–" if ratio.get(k) is None else f"{ratio[k]:.2f}") for k in ("2", "5")]
        ct = "–" if r["copying"] is None else f"{r['copying']:+.2f}"
        print(
            f"{r['set']:6s} {cases.get(r['set'], '?')!s:>4s} {r['name']:34s} {r['seed']:4d} "
            f"{r['value']:6.2f} {r['output_tendency']:6.3f} {ds[0]:>6s} {ds[1]:>6s} {ct:>7s} "
            f"{r['verdict']:>15s}"
        )


if __name__ == "__main__":
    main()
