"""What svrlens refuses, and how: a table of bad inputs across the command line's entry points.

For every row the command must exit with code 2 and print exactly one line, ``svrlens: error:
…``, that names the file or the option at fault (and says what was expected), with no traceback
— and leave no output behind: the row's output path must not exist afterwards (or, where it
held files before, hold exactly those). Rows run in this process (``svrlens.cli.main``), so the
table stays fast; tests/test_cli.py checks the same boundary through a real process, and
tests/test_inputs.py the inputs that are read with a documented warning and a correct result.
"""

import json
import os

import numpy as np
import pytest
from PIL import Image

from svrlens.cli import main
from tests import refusals as r

T = "tendency"
S = ("data", "synth")


# ----------------------------------------------------------------------------- builders


def _listing(out):
    if out is None or not os.path.exists(out):
        return None
    return sorted(str(p.relative_to(out)) for p in out.rglob("*")) if out.is_dir() else "file"


def _text(path, text):
    path.write_text(text)
    return path


def _dir(path):
    path.mkdir()
    return path


def _holding(path, name):
    path.mkdir()
    (path / name).write_text("the user's")
    return path


def _clouds(t, sizes):
    folder = _dir(t / "clouds")
    for k, n in enumerate(sizes):
        np.save(folder / f"c{k:02d}.npy", np.zeros((n, 3)))
    return folder


def _pngs(t, sizes):
    folder = _dir(t / "pngs")
    for k, (w, h) in enumerate(sizes):
        Image.new("RGB", (w, h)).save(folder / f"i{k:02d}.png")
    return folder


def _truncated_png(t):
    folder = _pngs(t, [(8, 8), (8, 8)])
    data = (folder / "i00.png").read_bytes()
    (folder / "i00.png").write_bytes(data[: len(data) // 2])
    return folder


def _duplicate_key_manifest(base, t):
    text = (base / "manifest.json").read_text()
    manifest = json.loads(text)
    raw = text.rstrip().rstrip("}") + ', "splits": ' + json.dumps(manifest["splits"]) + "}"
    return r.copy_dataset(base, t, "d", raw_manifest=raw.encode())


def _altered(base, t):
    out = r.copy_dataset(base, t, "d")
    points = np.load(out / "points.npy")
    np.save(out / "points.npy", points + 1)
    return out


def _train_option(flag, value):
    named = "device" if value.startswith("cuda") else flag  # a device this machine lacks: the field
    return lambda t, b: (["train", b, "--out", t / "run", flag, value], named, t / "run")


def _diagnose(train, predictions, t, out=None):
    out = t / "out" if out is None else out
    return ["diagnose", "--train", train, "--predictions", predictions, "--out", out, "--quiet"]


def _diagnose_points(array):
    def build(t, b):
        path = t / "p.npz"
        np.savez(path, points=array, allow_pickle=True)
        return _diagnose(b, path, t), "p.npz", t / "out"

    return build


def _diagnose_option(flag, value):
    return lambda t, b: (_diagnose(b, r.predictions(t, "p.npz"), t) + [flag, value], flag, t / "out")


def _folder(options):
    return lambda t, b: (["calibrate", r.user_folder(t, **options), "--out", t / "out"], "folder", t / "out")


def _shape_array(array):
    def write(folder, k):
        np.save(folder / f"s{k:02d}.npy", array)

    return write


def _shape_npz(array):
    def write(folder, k):
        np.savez(folder / f"s{k:02d}.npz", points=array)

    return write


def _image_sizes(path, k):
    Image.new("RGB", (8, 8 + (k == 1))).save(path)


def _image_truncated(path, k):
    Image.new("RGB", (8, 8)).save(path)
    if k == 0:
        path.write_bytes(path.read_bytes()[:40])


def _spec(edit):
    return lambda t, b: (["reproduce", "--spec", r.spec(t, edit), "--out", t / "o"], "spec.json", t / "o")


def _synth_option(flag, value):
    return lambda t, b: ([*S, "cube-sphere", "--out", t / "o", flag, value], flag, t / "o")


def _build_option(flag, *values):
    return lambda t, b: (["data", "build", _dir(t / "m"), "--out", t / "o", flag, *values], flag, t / "o")


def _string_score_results():
    entry = {"verdict": "x", "statistic": {"score": "high"}, "conventions": {}}
    return {"datasets": {"a": entry}}


def _rows():
    """(id, build(tmp, base) → (argv, named, out), expected text). ``named`` must appear in the
    line (the file or option at fault); ``out`` must be left as it was (absent, or its files)."""
    cloud = np.zeros((4, 8, 3))
    rows = [
        # --- svrlens tendency: matrices, clouds, images and labels from files
        ("tendency-missing", lambda t, b: ([T, t / "no.npy"], "no.npy", None), "no such file"),
        (
            "tendency-not-npy",
            lambda t, b: ([T, _text(t / "d.npy", "1,2\n3,4")], "d.npy", None),
            "not a .npy file",
        ),
        (
            "tendency-pickled",
            lambda t, b: ([T, r.npy(t, "o.npy", np.array([{}, 1], object), True)], "o.npy", None),
            "holds Python objects",
        ),
        (
            "tendency-complex-clouds",
            lambda t, b: ([T, r.npy(t, "c.npy", cloud.astype(complex))], "c.npy", None),
            "expected real numbers, found complex numbers",
        ),
        (
            "tendency-bool-clouds",
            lambda t, b: ([T, r.npy(t, "b.npy", cloud.astype(bool))], "b.npy", None),
            "found booleans",
        ),
        (
            "tendency-text-array",
            lambda t, b: ([T, r.npy(t, "s.npy", np.array([["a", "b"], ["c", "d"]]))], "s.npy", None),
            "found text",
        ),
        (
            "tendency-structured",
            lambda t, b: (
                [T, r.npy(t, "r.npy", np.zeros((2, 2), [("a", "f4"), ("b", "f4")]))],
                "r.npy",
                None,
            ),
            "found structured records",
        ),
        (
            "tendency-asymmetric",
            lambda t, b: ([T, r.npy(t, "a.npy", np.array([[0.0, 1.0], [2.0, 0.0]]))], "a.npy", None),
            "expected a symmetric matrix",
        ),
        (
            "tendency-nan-matrix",
            lambda t, b: ([T, r.npy(t, "n.npy", np.array([[0.0, np.nan], [np.nan, 0.0]]))], "n.npy", None),
            "expected finite distances",
        ),
        (
            "tendency-1d",
            lambda t, b: ([T, r.npy(t, "v.npy", np.arange(3.0))], "v.npy", None),
            "expected a square distance matrix",
        ),
        (
            "tendency-labels-length",
            lambda t, b: (
                [T, r.npy(t, "c.npy", cloud), "--labels", r.npy(t, "l.npy", np.arange(3)), "--quiet"],
                "l.npy",
                None,
            ),
            "labels: expected shape (4,), found (3,)",
        ),
        (
            "tendency-labels-text",
            lambda t, b: (
                [T, r.npy(t, "c.npy", cloud), "--labels", r.npy(t, "l.npy", np.array(list("abcd")))],
                "l.npy",
                None,
            ),
            "labels: expected real numbers, found text",
        ),
        (
            "tendency-labels-fractional",
            lambda t, b: (
                [T, r.npy(t, "c.npy", cloud), "--labels", r.npy(t, "l.npy", np.array([0.5, 1, 2, 3]))],
                "l.npy",
                None,
            ),
            "expected integer cluster labels",
        ),
        (
            "tendency-method-labels-alone",
            lambda t, b: ([T, r.npy(t, "c.npy", cloud), "--method", "labels"], "--method labels", None),
            "expected --labels",
        ),
        (
            "tendency-negative-seed",
            lambda t, b: ([T, r.npy(t, "c.npy", cloud), "--seed", "-1"], "--seed", None),
            "expected a value ≥ 0, found -1",
        ),
        (
            "tendency-json-under-a-file",
            lambda t, b: (
                [T, r.npy(t, "c.npy", cloud), "--json", _text(t / "f", "x") / "t.json"],
                "t.json",
                t / "f" / "t.json",
            ),
            "cannot write",
        ),
        (
            "tendency-ragged-folder",
            lambda t, b: ([T, _clouds(t, [8, 9])], "c01.npy", None),
            "ragged clouds",
        ),
        ("tendency-empty-folder", lambda t, b: ([T, _dir(t / "e")], "e", None), "found neither"),
        (
            "tendency-image-sizes",
            lambda t, b: ([T, _pngs(t, [(8, 8), (9, 8)])], "i01.png", None),
            "expected every image to be 8x8",
        ),
        (
            "tendency-truncated-png",
            lambda t, b: ([T, _truncated_png(t)], "i00.png", None),
            "not a readable image",
        ),
        (
            "tendency-too-many-pixels",
            lambda t, b: ([T, _pngs(t, [(12, 12), (12, 12)])], "i00.png", None),
            "expected at most 100 pixels per image",
        ),
        # --- svrlens train: the dataset and every option, before anything is written
        (
            "train-missing-dataset",
            lambda t, b: (["train", t / "none", "--out", t / "run"], "none", t / "run"),
            "no such dataset directory",
        ),
        (
            "train-dataset-is-a-file",
            lambda t, b: (["train", _text(t / "d", "x"), "--out", t / "run"], "d", t / "run"),
            "expected a dataset directory, found a file",
        ),
        (
            "train-manifest-not-json",
            lambda t, b: (
                ["train", r.copy_dataset(b, t, "d", raw_manifest=b"{oops"), "--out", t / "run"],
                "manifest.json",
                t / "run",
            ),
            "not valid JSON",
        ),
        (
            "train-manifest-sha256-list",
            lambda t, b: (
                ["train", r.copy_dataset(b, t, "d", lambda m: m.update(sha256=["x"])), "--out", t / "run"],
                "manifest.json",
                t / "run",
            ),
            "sha256: expected an object",
        ),
        (
            "train-manifest-split-string",
            lambda t, b: (
                [
                    "train",
                    r.copy_dataset(b, t, "d", lambda m: m["splits"].update(train="s00")),
                    "--out",
                    t / "run",
                ],
                "manifest.json",
                t / "run",
            ),
            "splits.train: expected a list of integer indices, found 's00'",
        ),
        (
            "train-manifest-split-booleans",
            lambda t, b: (
                [
                    "train",
                    r.copy_dataset(b, t, "d", lambda m: m["splits"].update(train=[True, False])),
                    "--out",
                    t / "run",
                ],
                "manifest.json",
                t / "run",
            ),
            "splits.train: expected a list of integer indices",
        ),
        (
            "train-manifest-duplicate-key",
            lambda t, b: (
                ["train", _duplicate_key_manifest(b, t), "--out", t / "run"],
                "manifest.json",
                t / "run",
            ),
            "the key 'splits' appears twice",
        ),
        (
            "train-altered-array",
            lambda t, b: (["train", _altered(b, t), "--out", t / "run"], "points.npy", t / "run"),
            "SHA-256 does not match",
        ),
        (
            "train-one-sample",
            lambda t, b: (
                [
                    "train",
                    r.copy_dataset(b, t, "d", lambda m: m["splits"].update(train=[0])),
                    "--out",
                    t / "run",
                ],
                "d",
                t / "run",
            ),
            "expected ≥ 2 training samples",
        ),
        (
            "train-out-is-a-file",
            lambda t, b: (["train", b, "--out", _text(t / "f", "x")], "f", None),
            "exists and is not a directory",
        ),
        *[
            (f"train-option{flag}={value}", _train_option(flag, value), message)
            for flag, value, message in [
                ("--epochs", "0", "expected a value ≥ 1, found 0"),
                ("--epochs", "1.5", "invalid int value: '1.5'"),
                ("--lr", "nan", "expected a finite number"),
                ("--lr", "-1", "expected a value > 0"),
                ("--device", "bogus", "expected auto, cpu, mps, cuda or cuda:N, found 'bogus'"),
                ("--device", "cuda:99", "device: expected a CUDA device this machine has"),
                ("--batch-size", "1", "expected a value ≥ 2, found 1"),
                ("--image-size", "8", "expected a value ≥ 32, found 8"),
                ("--grid-size", "1", "expected a value ≥ 2, found 1"),
                ("--decoder-width", "0", "expected a value ≥ 1, found 0"),
                ("--weight-decay", "inf", "expected a finite number"),
                ("--labels", "some", "invalid choice: 'some'"),
            ]
        ],
        # --- svrlens predict
        (
            "predict-garbage-checkpoint",
            lambda t, b: (["predict", _text(t / "c.pt", "x"), b, "--out", t / "p.npz"], "c.pt", t / "p.npz"),
            "not a readable svrlens checkpoint",
        ),
        (
            "predict-pickled-checkpoint",
            lambda t, b: (
                ["predict", r.pickled_checkpoint(t), b, "--out", t / "p.npz"],
                "pickled.pt",
                t / "p.npz",
            ),
            "not a readable svrlens checkpoint",
        ),
        (
            "predict-malformed-config",
            lambda t, b: (
                ["predict", r.checkpoint(t, "c.pt", config={"epochs": "x"}), b, "--out", t / "p.npz"],
                "c.pt",
                t / "p.npz",
            ),
            "a malformed stored configuration (config.epochs: expected an integer",
        ),
        (
            "predict-input-size-text",
            lambda t, b: (
                ["predict", r.checkpoint(t, "c.pt", input_size="32"), b, "--out", t / "p.npz"],
                "c.pt",
                t / "p.npz",
            ),
            "input_size: expected an integer",
        ),
        (
            "predict-weights-do-not-fit",
            lambda t, b: (["predict", r.checkpoint(t, "c.pt"), b, "--out", t / "p.npz"], "c.pt", t / "p.npz"),
            "weights do not fit the saved configuration",
        ),
        (
            "predict-no-images",
            lambda t, b: (
                ["predict", r.checkpoint(t, "c.pt"), r.npy(t, "i.npy", np.zeros((0, 8, 8, 3), np.uint8))]
                + ["--out", t / "p.npz"],
                "i.npy",
                t / "p.npz",
            ),
            "expected at least one non-empty image",
        ),
        (
            "predict-float-images",
            lambda t, b: (
                [
                    "predict",
                    r.checkpoint(t, "c.pt"),
                    r.npy(t, "i.npy", np.zeros((1, 8, 8, 3))),
                    "--out",
                    t / "p.npz",
                ],
                "i.npy",
                t / "p.npz",
            ),
            "expected uint8 images (N, H, W, 3), found float64",
        ),
        (
            "predict-no-pngs",
            lambda t, b: (
                ["predict", r.checkpoint(t, "c.pt"), _dir(t / "e"), "--out", t / "p.npz"],
                "e",
                t / "p.npz",
            ),
            "expected *.png images, found none",
        ),
        (
            "predict-batch-size-0",
            lambda t, b: (
                ["predict", r.checkpoint(t, "c.pt"), b, "--out", t / "p.npz", "--batch-size", "0"],
                "--batch-size",
                t / "p.npz",
            ),
            "expected an integer ≥ 1, found 0",
        ),
        # --- svrlens diagnose: predictions, options, cache and output directory
        (
            "diagnose-no-predictions",
            lambda t, b: (_diagnose(b, t / "none.npz", t), "none.npz", t / "out"),
            "no such predictions file",
        ),
        *[
            (f"diagnose-points-{kind}", _diagnose_points(array), found)
            for kind, array, found in [
                ("text", np.full((4, 16, 3), "a"), "points: expected real numbers, found text"),
                ("bool", np.zeros((4, 16, 3), bool), "points: expected real numbers, found booleans"),
                ("complex", np.zeros((4, 16, 3), complex), "points: expected real numbers, found complex"),
                (
                    "structured",
                    np.zeros((4, 16, 3), [("x", "f4")]),
                    "points: expected real numbers, found structured records",
                ),
                ("pickled", np.empty((4, 16, 3), object), "member 'points' holds Python objects"),
                ("flat", np.zeros((4, 16, 2), np.float32), "points: expected shape (N, P, 3)"),
                ("nan", np.full((4, 16, 3), np.nan, np.float32), "points contain NaN or inf"),
                ("huge", np.full((4, 16, 3), 1e30), "expected coordinates within ±1e+15"),
                ("count", np.zeros((3, 16, 3), np.float32), "expected 4 predictions"),
            ]
        ],
        (
            "diagnose-repeated-indices",
            lambda t, b: (
                _diagnose(b, r.predictions(t, "p.npz", indices=np.array([14, 14, 15, 16])), t),
                "p.npz",
                t / "out",
            ),
            "an index repeated",
        ),
        (
            "diagnose-text-indices",
            lambda t, b: (
                _diagnose(b, r.predictions(t, "p.npz", indices=np.array(list("abcd"))), t),
                "p.npz",
                t / "out",
            ),
            "indices: expected integers, found text",
        ),
        (
            "diagnose-codewords-shape",
            lambda t, b: (
                _diagnose(b, r.predictions(t, "p.npz", codewords=np.zeros((3, 8))), t),
                "p.npz",
                t / "out",
            ),
            "codewords: expected finite real numbers",
        ),
        *[
            (f"diagnose-option{flag}={value}", _diagnose_option(flag, value), message)
            for flag, value, message in [
                ("--thresholds", "-1", "--thresholds[0]: expected a value > 0, found -1.0"),
                ("--thresholds", "nan", "--thresholds[0]: expected a finite number"),
                ("--bootstrap", "3", "--bootstrap: expected a value ≥ 10, found 3"),
                ("--confidence", "1.5", "--confidence: expected a value < 1, found 1.5"),
                ("--null-references", "0", "--null-references: expected a value ≥ 1, found 0"),
                ("--seed", "-2", "--seed: expected a value ≥ 0, found -2"),
            ]
        ],
        (
            "diagnose-cache-is-a-file",
            lambda t, b: (
                _diagnose(b, r.predictions(t, "p.npz"), t) + ["--cache", _text(t / "c", "x")],
                "c",
                t / "out",
            ),
            "--cache: expected a directory, found a file",
        ),
        (
            "diagnose-out-holds-other-files",
            lambda t, b: (
                _diagnose(b, r.predictions(t, "p.npz"), t, _holding(t / "out", "mine.txt")),
                "out",
                t / "out",
            ),
            "holds files this command did not write (first: 'mine.txt')",
        ),
        (
            "diagnose-empty-test-split",
            lambda t, b: (
                _diagnose(
                    r.copy_dataset(b, t, "d", lambda m: m["splits"].update(test=[])),
                    r.predictions(t, "p.npz"),
                    t,
                ),
                "d",
                t / "out",
            ),
            "no test samples",
        ),
        # --- svrlens evaluate
        (
            "evaluate-not-a-run",
            lambda t, b: (["evaluate", _dir(t / "run"), "--out", t / "out"], "run", t / "out"),
            "not a svrlens run directory",
        ),
        (
            "evaluate-record-without-path",
            lambda t, b: (
                ["evaluate", r.run_dir(t, {"sha256": None}), "--out", t / "out"],
                "dataset.json",
                t / "out",
            ),
            'dataset\'s "path"',
        ),
        (
            "evaluate-record-sha256-list",
            lambda t, b: (
                ["evaluate", r.run_dir(t, {"path": str(b), "sha256": ["x"]}), "--out", t / "out"],
                "dataset.json",
                t / "out",
            ),
            "sha256: expected an object",
        ),
        (
            "evaluate-record-latin1",
            lambda t, b: (
                ["evaluate", r.run_dir(t, '{"path": "caf\xe9"}'.encode("latin-1")), "--out", t / "out"],
                "dataset.json",
                t / "out",
            ),
            "not UTF-8 text",
        ),
        # --- a user folder (images/ + shapes/), through svrlens calibrate
        *[
            (f"folder-{name}", _folder(options), message)
            for name, options, message in [
                (
                    "split-string",
                    {"split": {"train": "s00"}},
                    "split.json: train: expected a list of sample names",
                ),
                (
                    "split-repeated",
                    {"split": {"train": ["s00", "s00"]}},
                    "the name 's00' appears more than once",
                ),
                ("split-unknown", {"split": {"test": ["s99"]}}, "split.json: names without an image"),
                (
                    "split-not-utf8",
                    {"split": '{"train": ["caf\xe9"]}'.encode("latin-1")},
                    "split.json: not UTF-8",
                ),
                (
                    "label-list",
                    {"labels": {f"s{k:02d}": [k] for k in range(6)}},
                    "s00: expected an integer or a string",
                ),
                (
                    "label-bool",
                    {"labels": {f"s{k:02d}": True for k in range(6)}},
                    "s00: expected an integer or a string",
                ),
                (
                    "label-mixed",
                    {"labels": {f"s{k:02d}": k if k else "a" for k in range(6)}},
                    "all integers or all strings",
                ),
                ("label-missing", {"labels": {"s00": 1}}, "labels.json: no label for 5 samples"),
                (
                    "shape-complex",
                    {"shape": _shape_array(np.zeros((64, 3), complex))},
                    "s00.npy: points: expected real",
                ),
                (
                    "shape-bool-npz",
                    {"shape": _shape_npz(np.ones((64, 3), bool))},
                    "s00.npz: points: expected real",
                ),
                (
                    "shape-flat",
                    {"shape": _shape_array(np.zeros((64, 2)))},
                    "s00.npy: expected points of shape (P, 3)",
                ),
                ("shape-bad-faces", {"shape": r.mesh_with_bad_faces}, "s00.ply: faces: 1 of 12 faces index"),
                ("image-sizes", {"image": _image_sizes}, "s01.png: expected every image to be 8x8"),
                ("image-truncated", {"image": _image_truncated}, "s00.png: not a readable image"),
            ]
        ],
        (
            "calibrate-too-few-samples",
            lambda t, b: (
                [
                    "calibrate",
                    r.copy_dataset(b, t, "d", lambda m: m["splits"].update(test=[14, 15])),
                    "--out",
                    t / "out",
                ],
                "d",
                t / "out",
            ),
            "calibration needs ≥ 3 samples in the 'test' split",
        ),
        # --- svrlens reproduce: spec files are checked like the options, before any data
        (
            "reproduce-no-spec",
            lambda t, b: (["reproduce", "--spec", t / "s.json"], "s.json", None),
            "no such spec file",
        ),
        *[
            (f"reproduce-spec-{name}", _spec(edit), message)
            for name, edit, message in [
                (
                    "float-epochs",
                    lambda d: d["studies"][0]["train"].update(epochs=2.5),
                    "studies[0].train.epochs",
                ),
                (
                    "huge-n-shapes",
                    lambda d: d["bases"]["cube-sphere"].update(n_shapes=10**10),
                    "n_shapes: expected",
                ),
                (
                    "huge-n-points",
                    lambda d: d["bases"]["cube-sphere"].update(n_points=10**9),
                    "n_points: expected",
                ),
                (
                    "zero-width",
                    lambda d: d["studies"][0]["train"]["model"].update(decoder_width=0),
                    "decoder_width",
                ),
                (
                    "negative-width",
                    lambda d: d["studies"][0]["train"]["model"].update(decoder_width=-8),
                    "decoder_width",
                ),
                (
                    "nan-threshold",
                    lambda d: d["evaluation"].update(thresholds=[float("nan")]),
                    "finite number",
                ),
                (
                    "negative-threshold",
                    lambda d: d["evaluation"].update(thresholds=[-100]),
                    "expected a value > 0",
                ),
                (
                    "device",
                    lambda d: d["studies"][0]["train"].update(device="gpu"),
                    "train.device: expected auto",
                ),
                ("unknown-key", lambda d: d.update(epochs=3), "spec: unknown key 'epochs'"),
            ]
        ],
        (
            "reproduce-spec-duplicate-key",
            lambda t, b: (
                ["reproduce", "--spec", r.spec(t, raw=b'{"name": "a", "name": "b"}')],
                "spec.json",
                None,
            ),
            "the key 'name' appears twice",
        ),
        (
            "reproduce-jobs-0",
            lambda t, b: (["reproduce", "--jobs", "0", "--out", t / "o"], "--jobs", t / "o"),
            "expected an integer ≥ 1, found 0",
        ),
        # --- svrlens report: results.json of any shape
        ("report-nothing", lambda t, b: (["report", _dir(t / "o")], "o", None), "no results.json here"),
        (
            "report-not-an-object",
            lambda t, b: (["report", r.results(t, [1, 2])], "results.json", None),
            "not a svrlens results file",
        ),
        (
            "report-missing-keys",
            lambda t, b: (
                ["report", r.results(t, {"datasets": {"a": {"verdict": "x"}}})],
                "results.json",
                None,
            ),
            "not a complete svrlens results file",
        ),
        (
            "report-string-score",
            lambda t, b: (["report", r.results(t, _string_score_results())], "results.json", None),
            "not a complete svrlens results file",
        ),
        # --- svrlens data …
        *[
            (f"synth-option{flag}={value}", _synth_option(flag, value), message)
            for flag, value, message in [
                ("--shapes", "5", "--shapes: expected a value ≥ 10, found 5"),
                ("--points", "1000000000", "--points: expected a value ≤ 1,000,000"),
                ("--image-size", "4", "--image-size: expected a value ≥ 8, found 4"),
                ("--mesh-resolution", "5", "--mesh-resolution: expected an even number of grid cells"),
                ("--dense-points", "-1", "--dense-points: expected a value ≥ 0"),
                ("--seed", "-3", "--seed: expected a value ≥ 0"),
                ("--shapes", "10000000", "expected a dataset of at most 64 GiB in memory"),
            ]
        ],
        *[
            (f"build-option{flag}={'_'.join(values)}", _build_option(flag, *values), message)
            for flag, values, message in [
                ("--image-size", ("4",), "--image-size: expected a value ≥ 8, found 4"),
                ("--split", ("0.5", "0.6", "0.1"), "--split: expected three fractions"),
                ("--n-views", ("3",), "--n-views: expected 1 for the isometric view, found 3"),
                ("--azimuth", ("1", "2", "3"), "--azimuth: expected at most 2 item(s)"),
                ("--layout", ("bogus",), "invalid choice: 'bogus'"),
                ("--points", ("0",), "--points: expected a value ≥ 1, found 0"),
            ]
        ],
        (
            "build-no-meshes",
            lambda t, b: (["data", "build", _dir(t / "m"), "--out", t / "o"], "m", t / "o"),
            "no meshes found in any layout",
        ),
        (
            "build-missing-folder",
            lambda t, b: (["data", "build", t / "nosuch", "--out", t / "o"], "nosuch", t / "o"),
            "no such directory of meshes",
        ),
        (
            "synth-out-not-empty",
            lambda t, b: ([*S, "cube-sphere", "--out", _holding(t / "o", "x")], "o", t / "o"),
            "already exists and is not empty",
        ),
        (
            "subsample-too-few-shapes",
            lambda t, b: (["data", "subsample", b, "--family", "1.1", "--out", t / "o"], "base", t / "o"),
            "family 1.1 needs ≥ 100 training shapes, found 14",
        ),
        (
            "subsample-wrong-base",
            lambda t, b: (["data", "subsample", b, "--family", "2.1", "--out", t / "o"], "base", t / "o"),
            "expected a cube-pyramid-sphere base dataset",
        ),
        (
            "inspect-unknown-split",
            lambda t, b: (
                ["data", "inspect", b, "--split", "bogus", "--json", t / "i.json"],
                "base",
                t / "i.json",
            ),
            "no split 'bogus'",
        ),
        (
            "preview-count-0",
            lambda t, b: (
                ["data", "preview", b, "--out", t / "p.png", "--count", "0"],
                "--count",
                t / "p.png",
            ),
            "expected an integer ≥ 1, found 0",
        ),
        (
            "export-index-out-of-range",
            lambda t, b: (["data", "export", b, "--out", t / "m", "--indices", "999"], "--indices", t / "m"),
            "expected values in [0, 20), found 999..999",
        ),
        (
            "export-out-holds-other-files",
            lambda t, b: (["data", "export", b, "--out", _holding(t / "m", "notes.txt")], "m", t / "m"),
            "holds files this command did not write (first: 'notes.txt')",
        ),
        (
            "demo-huge",
            lambda t, b: (["demo", "--shapes", "10000000"], "--shapes", None),
            "demo: expected --shapes ≥ 10 (at most 20,000)",
        ),
    ]
    return rows


ROWS = _rows()


def test_the_table_is_large_enough():
    assert len(ROWS) >= 60 and len({row[0] for row in ROWS}) == len(ROWS)


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return r.base_dataset(tmp_path_factory.mktemp("base"))


@pytest.mark.parametrize("build, expected", [row[1:] for row in ROWS], ids=[row[0] for row in ROWS])
def test_bad_input_exits_2_with_one_line_and_leaves_nothing(
    build, expected, base, tmp_path, capsys, monkeypatch
):
    monkeypatch.setattr("svrlens.io.MAX_IMAGE_PIXELS", 100)  # the pixel bound, at a size a test can make
    argv, named, out = build(tmp_path, base)
    before = _listing(out)
    capsys.readouterr()
    try:
        code = main([str(a) for a in argv])
    except SystemExit as stop:  # argparse's own refusals
        code = stop.code
    stderr = capsys.readouterr().err
    lines = stderr.strip().splitlines()
    assert code == 2, stderr
    assert len(lines) == 1 and lines[0].startswith("svrlens: error: "), stderr
    assert expected in lines[0] and str(named) in lines[0], lines[0]
    assert "Traceback" not in stderr
    assert _listing(out) == before, f"{out} was left changed"
    leftovers = [p for p in tmp_path.rglob("*.tmp")]
    assert not leftovers, leftovers
