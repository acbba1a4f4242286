import json
import warnings

import numpy as np
import pytest

from svrlens.errors import InputError
from svrlens.evaluation import blocks, oracle_nn
from svrlens.geometry import pairwise_chamfer


def test_blocks_equal_the_whole_matrix_and_resume(rng, tmp_path, monkeypatch):
    a = rng.standard_normal((23, 32, 3)).astype(np.float32)
    b = rng.standard_normal((17, 32, 3)).astype(np.float32)
    whole = pairwise_chamfer(a, b)
    np.testing.assert_array_equal(blocks.blocked_chamfer(a, b, block_rows=5), whole)
    np.testing.assert_array_equal(
        blocks.blocked_chamfer(a, b, cache_dir=tmp_path / "cache", block_rows=5), whole
    )
    assert len(list((tmp_path / "cache").glob("block_*.npy"))) == 5
    # A killed run: one block missing. Only that one is computed again.
    (tmp_path / "cache" / "block_000000010_000000015.npy").unlink()
    computed = []
    real = blocks.chamfer_block
    monkeypatch.setattr(
        blocks, "chamfer_block", lambda *args, **kw: computed.append(args[2:4]) or real(*args, **kw)
    )
    np.testing.assert_array_equal(
        blocks.blocked_chamfer(a, b, cache_dir=tmp_path / "cache", block_rows=5), whole
    )
    assert computed == [(10, 15)]
    index, distance = oracle_nn(a, b, cache_dir=tmp_path / "cache2")
    np.testing.assert_array_equal(index, whole.argmin(1))


def test_stale_cache_is_refused(rng, tmp_path):
    a = rng.standard_normal((6, 8, 3)).astype(np.float32)
    blocks.blocked_chamfer(a, a, cache_dir=tmp_path / "cache", block_rows=2)
    with pytest.raises(InputError, match="holds blocks of other data"):
        blocks.blocked_chamfer(a + 1, a, cache_dir=tmp_path / "cache", block_rows=2)
    with pytest.raises(InputError, match="another block size"):
        blocks.blocked_chamfer(a, a, cache_dir=tmp_path / "cache", block_rows=3)


def test_block_function_is_pure(rng):
    a = rng.standard_normal((9, 8, 3)).astype(np.float32)
    b = rng.standard_normal((4, 8, 3)).astype(np.float32)
    parts = [blocks.chamfer_block(a, b, s, e) for s, e in blocks.block_ranges(9, 4)]
    np.testing.assert_array_equal(np.concatenate(parts), pairwise_chamfer(a, b))
    assert blocks.block_ranges(9, 4) == [(0, 4), (4, 8), (8, 9)]
    with pytest.raises(ValueError, match="block_rows"):
        blocks.block_ranges(9, 0)


def test_a_killed_diagnosis_resumes_every_matrix_and_recomputes_a_damaged_block(tmp_path, monkeypatch):
    """``diagnose --cache``: every large matrix (training shapes, test shapes, predictions, test ×
    train, predictions × train, …) is cached; a re-run after a kill computes only the missing
    block and the damaged one, and gives the same diagnosis."""
    from svrlens.evaluation import EvaluationConfig, run_diagnosis
    from tests import refusals

    base = refusals.base_dataset(tmp_path)  # 14 training, 4 test samples
    rng = np.random.default_rng(0)
    points = rng.normal(size=(4, 64, 3)).astype(np.float32)
    predictions = refusals.predictions(tmp_path, "p.npz", points=points)
    config = EvaluationConfig(n_bootstrap=10, null_references=1)
    cache = tmp_path / "cache"
    first = run_diagnosis(base, predictions, config=config, cache_dir=cache)
    records = {path.parent: json.loads(path.read_text()) for path in cache.glob("*/cache.json")}
    # train × train shapes, test × test, predictions × predictions, test × train, train × test, …
    assert {tuple(r["shape"]) for r in records.values()} == {(14, 14), (4, 4), (4, 14), (14, 4)}
    assert len(records) == 7

    matrices = sorted(records)
    sorted(matrices[0].glob("block_*.npy"))[0].unlink()  # killed before this block was saved
    damaged = sorted(matrices[1].glob("block_*.npy"))[0]
    damaged.write_bytes(damaged.read_bytes()[:-12])  # torn by a full disk or a kill
    computed = []
    real = blocks.chamfer_block
    monkeypatch.setattr(blocks, "chamfer_block", lambda *a, **k: computed.append(1) or real(*a, **k))
    again = run_diagnosis(base, predictions, config=config, cache_dir=cache)
    assert len(computed) == 2
    for key in ("verdict", "statistic", "model", "oracle_nn"):  # as JSON: NaN intervals compare equal
        assert json.dumps(again[key], sort_keys=True) == json.dumps(first[key], sort_keys=True), key


@pytest.mark.parametrize("kind", ["float16", "text", "record of another kind"])
def test_blocks_of_another_dtype_and_records_of_another_kind_are_recomputed(rng, tmp_path, kind):
    a = rng.standard_normal((6, 8, 3)).astype(np.float32)
    whole = blocks.blocked_chamfer(a, a, cache_dir=tmp_path / "cache", block_rows=2)
    first = sorted((tmp_path / "cache").glob("block_*.npy"))[0]
    if kind == "float16":
        np.save(first, np.load(first).astype(np.float16))
    elif kind == "text":
        np.save(first, np.array([["x"] * 6] * 2))
    else:
        (tmp_path / "cache" / "cache.json").write_text("[]")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        again = blocks.blocked_chamfer(a, a, cache_dir=tmp_path / "cache", block_rows=2)
    np.testing.assert_array_equal(again, whole)
