"""Synthetic morph datasets (paper sec. 3.2) and the on-disk dataset format."""

from .dataset import Dataset, load_dataset, save_dataset
from .subsample import N_SETS, n_sets, subsample, subsampled_dataset, write_family, write_set
from .synth import FAMILIES, MorphFamily, SynthConfig, export_meshes, generate, synthesize

__all__ = [
    "FAMILIES",
    "N_SETS",
    "n_sets",
    "Dataset",
    "MorphFamily",
    "SynthConfig",
    "export_meshes",
    "generate",
    "load_dataset",
    "save_dataset",
    "subsample",
    "subsampled_dataset",
    "synthesize",
    "write_family",
    "write_set",
]
