import pytest

from svrlens.data import SynthConfig, load_dataset, synthesize


@pytest.fixture(scope="session")
def small_base(tmp_path_factory):
    """Base dataset #1 on disk at the paper's 1000 shapes, scaled down to 32 px and 256 points."""
    path = tmp_path_factory.mktemp("data") / "base1"
    synthesize(SynthConfig(n_shapes=1000, image_size=32, n_points=256, seed=3), path, progress=False)
    return load_dataset(path)


@pytest.fixture(scope="session")
def small_base2(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "base2"
    synthesize(
        SynthConfig(family="cube-pyramid-sphere", n_shapes=2000, image_size=32, n_points=256, seed=3),
        path,
        progress=False,
    )
    return load_dataset(path)
