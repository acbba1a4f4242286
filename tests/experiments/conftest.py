"""A tiny experiment spec: a 60-shape cube-sphere base at 32 px, sets 1.2.1 and 1.2.7, a small
decoder trained for a few epochs. The whole sweep takes seconds and exercises every stage."""

import pytest

from svrlens.data import SynthConfig
from svrlens.experiments import EvaluationConfig, ExperimentSpec, FamilyStudy, SerialExecutor, reproduce
from svrlens.models import ModelConfig
from svrlens.training import TrainConfig


def tiny_spec(*, epochs=3, sets=(1, 7), seeds=(0,), name="tiny") -> ExperimentSpec:
    train = TrainConfig(
        epochs=epochs,
        batch_size=16,
        val_every=2,
        model=ModelConfig(grid_size=4, decoder_width=8, decoder_blocks=1, eval_grid_size=6),
    )
    return ExperimentSpec(
        name=name,
        bases={
            "cube-sphere": SynthConfig(family="cube-sphere", n_shapes=60, n_points=36, image_size=32, seed=3)
        },
        studies=(FamilyStudy("1.2", train, tuple(sets)),),
        evaluation=EvaluationConfig(thresholds=(0.2, 0.4), n_bootstrap=200, null_references=5),
        seeds=tuple(seeds),
    ).validate()


TENDENCIES = ("image_tendency", "shape_tendency", "output_tendency")


def numbers(results: dict) -> dict:
    """Everything in results.json that a run computes (not timings, paths or provenance)."""
    keep = {}
    for name, entry in results["datasets"].items():
        keep[name] = {
            k: entry[k]
            for k in (
                *TENDENCIES,
                "model",
                "oracle_nn",
                "retrieval",
                "clustering",
                "case",
                "verdict",
                "statistic",
                "sampling_floor",
                "memorisation",
                "dataset_sha256",
                "train_morph",
            )
        }
    return keep


@pytest.fixture(scope="session")
def serial_sweep(tmp_path_factory):
    """The tiny spec run serially with one thread per run: (output directory, results)."""
    out = tmp_path_factory.mktemp("serial")
    return out, reproduce(tiny_spec(), out, executor=SerialExecutor(threads=1), progress=False)
