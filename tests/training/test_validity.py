"""The two numbers training reports about itself, against inputs whose answer is known.

- Precise batch norm must not depend on the order the training set is stored in (datasets are
  often stored by class; batches in storage order then see one class each).
- The "did not train" flag must score the model and the single-shape baseline alike: on
  coupled synthetic clouds, a perfect reconstructor has to read "trained" and a single-shape
  predictor "did not train".
"""

import numpy as np
import pytest
import torch

from svrlens.data import Dataset
from svrlens.geometry import chamfer_distance
from svrlens.models import ModelConfig, build_model
from svrlens.training import TrainConfig, loop
from svrlens.training import trained as trained_module


def _stem_variance(model) -> torch.Tensor:
    return model.encoder.bn1.running_var.clone()


def test_precise_batch_norm_ignores_storage_order():
    """64 images stored by class (32 black, then 32 white), batch 32: storage-order batches
    each hold one class, so the stem's features vary little within a batch; the recomputed
    variance must nevertheless be the one of the whole set, whatever the storage order."""
    torch.manual_seed(0)
    config = TrainConfig(batch_size=32, seed=3, model=ModelConfig(grid_size=4, decoder_width=16))
    model = build_model(config.model)
    images = np.zeros((64, 32, 32, 3), np.uint8)
    images[32:] = 240
    images += np.random.default_rng(0).integers(0, 8, images.shape, dtype=np.uint8)  # not constant
    loop.recompute_batch_norm(model, images, config, "cpu")
    sorted_var = _stem_variance(model)
    shuffled = images[np.random.default_rng(1).permutation(64)]
    loop.recompute_batch_norm(model, shuffled, config, "cpu")
    shuffled_var = _stem_variance(model)
    # the whole set as one batch: the population statistics that precise BN estimates
    layer = model.encoder.bn1
    layer.reset_running_stats()
    layer.momentum = None
    model.train()
    with torch.no_grad():
        model(loop.to_input(images, None, "cpu"))
    whole_var = layer.running_var.clone()
    ratio_sorted = (sorted_var / whole_var).median().item()
    ratio_shuffled = (shuffled_var / whole_var).median().item()
    assert 0.6 < ratio_sorted < 1.6 and 0.6 < ratio_shuffled < 1.6
    # the failure this guards against: storage-order batches miss the between-class variance
    layer.reset_running_stats()
    with torch.no_grad():
        for s in (0, 32):
            model(loop.to_input(images[s : s + 32], None, "cpu"))
    assert (layer.running_var / whole_var).median().item() < 0.3


def _sphere_samples(radii: np.ndarray, count: int, rng: np.random.Generator, coupled: bool) -> np.ndarray:
    """Area-uniform samples of spheres of ``radii``; ``coupled``: one set of directions for all."""
    shape = (1 if coupled else len(radii), count, 3)
    directions = rng.normal(size=shape)
    directions /= np.linalg.norm(directions, axis=-1, keepdims=True)
    return (np.broadcast_to(directions, (len(radii), count, 3)) * radii[:, None, None]).astype(np.float32)


class _Predictor(torch.nn.Module):
    """Stands in for a network: ``trained_check`` only needs ``predict``, monkeypatched below."""


@pytest.mark.parametrize("kind, trained", [("perfect", True), ("single", False)])
def test_trained_check_scores_model_and_baseline_alike(monkeypatch, kind, trained):
    """Spheres of radii 0.9 … 1.1 with coupled training clouds (the synthetic families' sampling)
    and independent dense clouds. A perfect reconstructor outputs a fresh sample of each
    validation sphere; a single-shape predictor outputs one training cloud for every image."""
    rng = np.random.default_rng(0)
    radii = np.linspace(0.9, 1.1, 40)
    points = _sphere_samples(radii, 256, rng, coupled=True)
    dense = _sphere_samples(radii, 1024, rng, coupled=False)
    images = np.zeros((40, 32, 32, 3), np.uint8)
    splits = {"train": np.arange(0, 40, 2), "val": np.arange(1, 40, 2)}
    data = Dataset(images, points, dense=dense, splits=splits)
    train_set, val_set = data.subset("train"), data.subset("val")
    if kind == "perfect":
        outputs = _sphere_samples(radii[1::2], 256, rng, coupled=False)
    else:
        outputs = np.repeat(points[20:21], 20, axis=0)
    monkeypatch.setattr(trained_module, "predict", lambda *a, **k: (outputs, np.zeros((20, 512), np.float32)))
    config = TrainConfig(model=ModelConfig(grid_size=16))
    model_score, baseline = trained_module.trained_check(_Predictor(), val_set, train_set, config, "cpu")
    assert (model_score < baseline) is trained
    if kind == "perfect":
        # what the flag used to compare: the perfect output against the coupled validation
        # clouds carries the sampling floor, the coupled baseline does not, and it lost
        unfair = chamfer_distance(torch.from_numpy(outputs), torch.from_numpy(val_set.points)).mean()
        assert float(unfair) > trained_module.single_shape_baseline(train_set.points, val_set.points)
