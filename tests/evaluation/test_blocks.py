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
