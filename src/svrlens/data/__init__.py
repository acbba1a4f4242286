"""Datasets: the synthetic morph families (paper sec. 3.2), mesh collections built into datasets, user
folders, and the on-disk dataset format."""

from .build import BuildConfig, build_dataset
from .dataset import Dataset, load_dataset, save_dataset
from .export import export_folder
from .folder import load_folder, open_dataset
from .subsample import N_SETS, n_sets, subsample, subsampled_dataset, write_family, write_set
from .synth import FAMILIES, MorphFamily, SynthConfig, export_meshes, generate, synthesize

__all__ = [
    "FAMILIES",
    "N_SETS",
    "n_sets",
    "BuildConfig",
    "Dataset",
    "MorphFamily",
    "SynthConfig",
    "build_dataset",
    "export_folder",
    "export_meshes",
    "generate",
    "load_dataset",
    "load_folder",
    "open_dataset",
    "save_dataset",
    "subsample",
    "subsampled_dataset",
    "synthesize",
    "write_family",
    "write_set",
]
