"""All-pairs distance matrices: Chamfer and F-score between clouds, ℓ1 between images.

These feed the clustering-tendency analysis (paper sec. 2.3: 1000 × 1000 matrices) and the
Oracle-NN baseline (sec. 4.1: test × train, 10⁴ × 3·10⁴ on ShapeNet). Work is split into
tiles of at most ``_TILE`` clouds a side whose working memory stays under ``max_memory``;
on the CPU each tile runs the fused numba kernel, which never materialises a P × P matrix.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from tqdm.auto import tqdm

from . import _cpu_kernels
from ._checks import check_clouds, check_images, check_thresholds
from .chamfer import FScore
from .nearest import sq_minima, to_soa

DEFAULT_MAX_MEMORY = 512 * 2**20
# Tiles of ≤ 256 clouds keep the progress bar moving and per-tile copies small; the kernels
# are compute-bound, so larger tiles would not be faster.
_TILE = 256
_BACKENDS = ("auto", "numba", "torch")


def _tile_size(bytes_per_item: int, bytes_per_pair: int, max_memory: int) -> int:
    """Largest tile side s ≤ _TILE with 2·s·bytes_per_item + s²·bytes_per_pair ≤ max_memory."""
    if max_memory <= 0:
        raise ValueError(f"max_memory: expected a positive number of bytes, found {max_memory}")
    side = _TILE
    while side > 1 and 2 * side * bytes_per_item + side * side * bytes_per_pair > max_memory:
        side //= 2
    if 2 * side * bytes_per_item + side * side * bytes_per_pair > max_memory:
        raise ValueError(
            f"max_memory: {max_memory} bytes cannot hold even one pair "
            f"(needs {2 * bytes_per_item + bytes_per_pair})"
        )
    return side


def _tile_pairs(na: int, nb: int, side: int, symmetric: bool):
    """Yield (row start, col start, local row index, local col index) for each tile's pairs.

    In the symmetric case only pairs i < j are listed; the caller mirrors them.
    """
    for r0 in range(0, na, side):
        rows = np.arange(r0, min(r0 + side, na))
        for c0 in range(r0 if symmetric else 0, nb, side):
            cols = np.arange(c0, min(c0 + side, nb))
            ii, jj = np.meshgrid(rows, cols, indexing="ij")
            if symmetric:
                keep = ii < jj
                ii, jj = ii[keep], jj[keep]
            if ii.size:
                yield r0, c0, (ii.ravel() - r0).astype(np.int64), (jj.ravel() - c0).astype(np.int64)


def _n_pairs(na: int, nb: int, symmetric: bool) -> int:
    return na * (na - 1) // 2 if symmetric else na * nb


def _resolve_backend(backend: str, device: torch.device) -> str:
    if backend not in _BACKENDS:
        raise ValueError(f"backend: expected one of {_BACKENDS}, found {backend!r}")
    if backend == "auto":
        return "numba" if device.type == "cpu" else "torch"
    if backend == "numba" and device.type != "cpu":
        raise ValueError(f"backend: 'numba' runs on the CPU only, found device {device}")
    return backend


def _prepare_clouds(a, b, device):
    """Validate both sets; return tensors on the compute device, a symmetric flag and numpy-ness."""
    returns_numpy = isinstance(a, np.ndarray)
    a_t, _ = check_clouds(a, "a")
    symmetric = b is None
    b_t = a_t if symmetric else check_clouds(b, "b")[0]
    if a_t.dtype != b_t.dtype:
        dtype = torch.promote_types(a_t.dtype, b_t.dtype)
        a_t, b_t = a_t.to(dtype), b_t.to(dtype)
    device = torch.device(device) if device is not None else a_t.device
    return a_t.detach().to(device), b_t.detach().to(device), symmetric, returns_numpy


def _pair_minima_torch(a_tile, b_tile, ia, ib, max_memory):
    """Yield (pair slice, squared minima both ways) for listed pairs, chunked by memory."""
    p1, p2 = a_tile.shape[1], b_tile.shape[1]
    per_pair = (p1 * p2 + 3 * (p1 + p2)) * a_tile.element_size()
    step = max(1, max_memory // (2 * per_pair))
    ia_t = torch.from_numpy(ia).to(a_tile.device)
    ib_t = torch.from_numpy(ib).to(a_tile.device)
    for start in range(0, ia.shape[0], step):
        sl = slice(start, min(start + step, ia.shape[0]))
        yield sl, sq_minima(a_tile[ia_t[sl]], b_tile[ib_t[sl]])


def _run_cloud_pairs(a, b, *, device, max_memory, progress, backend, desc, value_shapes, numba_fn, torch_fn):
    """Shared tiling loop: fill one (Na, Nb, *shape) float64 matrix per entry of ``value_shapes``.

    ``numba_fn(a_soa, b_soa, ia, ib) -> tuple of (n_pairs, ...) arrays`` and
    ``torch_fn(a_tile, b_tile, ia, ib) -> same`` compute the values of the listed pairs.
    """
    a_t, b_t, symmetric, returns_numpy = _prepare_clouds(a, b, device)
    backend = _resolve_backend(backend, a_t.device)
    na, nb = a_t.shape[0], b_t.shape[0]
    p1, p2 = a_t.shape[1], b_t.shape[1]
    itemsize = a_t.element_size()
    # Per pair: two int64 indices, meshgrid temporaries, and the values before scattering.
    per_pair = 48 + 16 * sum(math.prod(shape) for shape in value_shapes)
    side = _tile_size(3 * max(p1, p2) * itemsize * 2, per_pair, max_memory)
    outputs = [np.zeros((na, nb) + tuple(shape), np.float64) for shape in value_shapes]
    with tqdm(
        total=_n_pairs(na, nb, symmetric), disable=not progress, unit="pair", desc=desc, smoothing=0.1
    ) as bar:
        for r0, c0, ia, ib in _tile_pairs(na, nb, side, symmetric):
            a_tile = a_t[r0 : r0 + side]
            b_tile = b_t[c0 : c0 + side]
            if backend == "numba":
                values = numba_fn(to_soa(a_tile), to_soa(b_tile), ia, ib)
            else:
                values = torch_fn(a_tile, b_tile, ia, ib)
            for out, v in zip(outputs, values):
                out[r0 + ia, c0 + ib] = v
            bar.update(ia.shape[0])
    return outputs, symmetric, returns_numpy, a_t.device


def _finish(matrix: np.ndarray, returns_numpy: bool, device):
    return matrix if returns_numpy else torch.from_numpy(matrix).to(device)


def pairwise_chamfer(
    a, b=None, *, squared=False, device=None, max_memory=DEFAULT_MAX_MEMORY, progress=False, backend="auto"
):
    """Chamfer distance (eq. 2) between every cloud of ``a`` and every cloud of ``b``.

    Parameters
    ----------
    a : FloatTensor or ndarray of shape (Na, P1, 3)
        Clouds, float32 (fast) or float64 (exact). Computation happens in this dtype;
        per-pair sums are accumulated in float64.
    b : FloatTensor or ndarray of shape (Nb, P2, 3), default=None
        Second set. ``None`` compares ``a`` with itself: only pairs i < j are computed and the
        result is mirrored, so it is exactly symmetric with an exactly zero diagonal.
    squared : bool, default=False
        Squared-distance convention (see :func:`svrlens.geometry.chamfer_distance`).
    device : str or torch.device, default=None
        Where to compute; ``None`` means the device of ``a``.
    max_memory : int, default=512 MiB
        Bound in bytes on the working memory beyond the inputs and the output matrix
        (tile copies, pair lists, and on the torch path the per-chunk distance blocks).
    progress : bool, default=False
        Show a tqdm progress bar counted in pairs.
    backend : {"auto", "numba", "torch"}, default="auto"
        ``"auto"`` uses the fused numba kernel on the CPU and chunked ``torch.cdist``
        (direct differences) on other devices.

    Returns
    -------
    ndarray or Tensor of shape (Na, Nb), float64
        A numpy array when ``a`` is a numpy array, else a tensor on the compute device.

    Notes
    -----
    Cost is O(Na·Nb·P1·P2) arithmetic and O(P) memory per pair; the CPU kernel keeps four
    points in registers per sweep and vectorises the sweep (see ``benchmarks/bench_geometry.py``).
    """

    def numba_fn(a_soa, b_soa, ia, ib):
        out = np.empty(ia.shape[0], np.float64)
        _cpu_kernels.chamfer_pairs(
            a_soa, b_soa, ia, ib, bool(squared), out, _cpu_kernels.n_chunks(ia.shape[0])
        )
        return (out,)

    def torch_fn(a_tile, b_tile, ia, ib):
        out = np.empty(ia.shape[0], np.float64)
        for sl, (sq_xy, sq_yx) in _pair_minima_torch(a_tile, b_tile, ia, ib, max_memory):
            sq_xy, sq_yx = sq_xy.double(), sq_yx.double()
            if not squared:
                sq_xy, sq_yx = sq_xy.sqrt(), sq_yx.sqrt()
            out[sl] = (sq_xy.mean(1) + sq_yx.mean(1)).cpu().numpy()
        return (out,)

    outputs, symmetric, returns_numpy, dev = _run_cloud_pairs(
        a,
        b,
        device=device,
        max_memory=max_memory,
        progress=progress,
        backend=backend,
        desc="pairwise Chamfer",
        value_shapes=[()],
        numba_fn=numba_fn,
        torch_fn=torch_fn,
    )
    matrix = outputs[0]
    if symmetric:
        matrix = matrix + matrix.T  # lower triangle and diagonal were 0
    return _finish(matrix, returns_numpy, dev)


def pairwise_fscore(
    a, b=None, threshold=0.01, *, device=None, max_memory=DEFAULT_MAX_MEMORY, progress=False, backend="auto"
):
    """F-score (eqs. 3–5) of every cloud of ``a`` (as reconstruction) against every cloud of ``b``.

    Parameters
    ----------
    a : FloatTensor or ndarray of shape (Na, P1, 3)
        Reconstructions (rows).
    b : FloatTensor or ndarray of shape (Nb, P2, 3), default=None
        References (columns); ``None`` compares ``a`` with itself (symmetric F, diagonal 1
        for a positive threshold).
    threshold : float or 1-D sequence of shape (T,), default=0.01
        Unsquared distance threshold(s), strict ``<`` (see :func:`svrlens.geometry.fscore`).
    device, max_memory, progress, backend
        As in :func:`pairwise_chamfer`.

    Returns
    -------
    FScore
        ``(fscore, precision, recall)``, each float64 of shape (Na, Nb) for a scalar
        threshold or (Na, Nb, T); numpy arrays when ``a`` is a numpy array, else tensors.
    """
    thresholds, scalar = check_thresholds(threshold)
    thr = thresholds.numpy()

    def numba_fn(a_soa, b_soa, ia, ib):
        precision = np.empty((ia.shape[0], thr.shape[0]), np.float64)
        recall = np.empty_like(precision)
        _cpu_kernels.fscore_pairs(
            a_soa, b_soa, ia, ib, thr, precision, recall, _cpu_kernels.n_chunks(ia.shape[0])
        )
        return precision, recall

    def torch_fn(a_tile, b_tile, ia, ib):
        precision = np.empty((ia.shape[0], thr.shape[0]), np.float64)
        recall = np.empty_like(precision)
        t = torch.from_numpy(thr).to(a_tile.device)
        for sl, (sq_xy, sq_yx) in _pair_minima_torch(a_tile, b_tile, ia, ib, max_memory):
            precision[sl] = (sq_xy.double().sqrt()[:, :, None] < t).double().mean(1).cpu().numpy()
            recall[sl] = (sq_yx.double().sqrt()[:, :, None] < t).double().mean(1).cpu().numpy()
        return precision, recall

    outputs, symmetric, returns_numpy, dev = _run_cloud_pairs(
        a,
        b,
        device=device,
        max_memory=max_memory,
        progress=progress,
        backend=backend,
        desc="pairwise F-score",
        value_shapes=[thr.shape, thr.shape],
        numba_fn=numba_fn,
        torch_fn=torch_fn,
    )
    precision, recall = outputs
    if symmetric:
        # F is symmetric; precision of (i, j) is the recall of (j, i). Distance 0 < d on the diagonal.
        diag = (thr > 0).astype(np.float64)
        precision, recall = precision + recall.transpose(1, 0, 2), recall + precision.transpose(1, 0, 2)
        idx = np.arange(precision.shape[0])
        precision[idx, idx] = diag
        recall[idx, idx] = diag
    total = precision + recall
    f = np.divide(2 * precision * recall, total, out=np.zeros_like(total), where=total > 0)
    result = [f, precision, recall]
    if scalar:
        result = [m[..., 0] for m in result]
    return FScore(*(_finish(m, returns_numpy, dev) for m in result))


def pairwise_l1(images_a, images_b=None):
    """Mean absolute pixel difference between every image of ``a`` and every image of ``b``.

    The paper's image distance (sec. 2.3 footnote): for images u, v of shape (H, W, C),
    ``d(u, v) = mean over the H·W·C values of |u − v|`` with uint8 images first scaled to
    [0, 1] (divided by 255); floating point images are taken as they are (expected in [0, 1]).
    So d lies in [0, 1] and is independent of resolution and channel count.

    Parameters
    ----------
    images_a : ndarray or Tensor of shape (Na, H, W, C), uint8 or float
    images_b : ndarray or Tensor of shape (Nb, H, W, C), default=None
        ``None`` compares ``images_a`` with itself (exactly symmetric, zero diagonal).
        Both sets must share H, W, C and be both uint8 or both floating point.

    Returns
    -------
    ndarray of shape (Na, Nb), float64
    """
    a = check_images(images_a, "images_a")
    symmetric = images_b is None
    b = a if symmetric else check_images(images_b, "images_b")
    if a.shape[1:] != b.shape[1:]:
        raise ValueError(
            f"images_a and images_b: expected the same (H, W, C), found {a.shape[1:]} and {b.shape[1:]}"
        )
    if (a.dtype == np.uint8) != (b.dtype == np.uint8):
        raise ValueError(
            f"images_a and images_b: expected both uint8 or both float, found {a.dtype} and {b.dtype}"
        )
    dim = math.prod(a.shape[1:])
    flat_a = np.ascontiguousarray(a.reshape(a.shape[0], dim))
    flat_b = flat_a if symmetric else np.ascontiguousarray(b.reshape(b.shape[0], dim))
    scale = dim * (255.0 if a.dtype == np.uint8 else 1.0)
    zero = np.int64(0) if a.dtype == np.uint8 else np.float64(0)
    out = np.zeros((a.shape[0], b.shape[0]), np.float64)
    for r0, c0, ia, ib in _tile_pairs(a.shape[0], b.shape[0], _TILE, symmetric):
        values = np.empty(ia.shape[0], np.float64)
        _cpu_kernels.l1_pairs(flat_a[r0:], flat_b[c0:], ia, ib, zero, values)
        out[r0 + ia, c0 + ib] = values / scale
    if symmetric:
        out = out + out.T
    return out
