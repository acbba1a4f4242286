"""A kernel compiled afresh and the same kernel loaded from numba's cache give the same bits.

In CI the first process compiles the kernels (and writes the cache) while worker processes load
them: the executor-equality tests failed there, 1 ulp apart, because LLVM ordered a fast-math sum
differently in the two. Here a child process compiles into an empty cache, a second loads it.
"""

import os
import subprocess
import sys

import numpy as np

_CHILD = """
import sys
import numpy as np
from svrlens.geometry import pairwise_chamfer, pairwise_fscore
rng = np.random.default_rng(0)
a = rng.normal(size=(11, 40, 3)).astype(np.float32)
b = rng.normal(size=(5, 37, 3)).astype(np.float32)
f = pairwise_fscore(a, b, [0.1, 0.3])
np.savez(sys.argv[1], un=pairwise_chamfer(a, b), sq=pairwise_chamfer(a, b, squared=True),
         sym=pairwise_chamfer(a), f=f)
"""


def _run_child(cache_dir, out):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache_dir))
    subprocess.run([sys.executable, "-c", _CHILD, str(out)], env=env, check=True, timeout=600)
    with np.load(out, allow_pickle=False) as archive:
        return {key: archive[key] for key in archive.files}


def test_fresh_and_cached_kernels_agree_bit_for_bit(tmp_path):
    cache = tmp_path / "numba-cache"
    fresh = _run_child(cache, tmp_path / "fresh.npz")
    assert any(cache.rglob("*.nbi")), "the first child did not write numba's cache"
    cached = _run_child(cache, tmp_path / "cached.npz")
    for key in fresh:
        differ = int(np.sum(fresh[key] != cached[key]))
        assert differ == 0, f"{key}: {differ} values differ between a fresh compile and the cache"
