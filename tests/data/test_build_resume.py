"""A build at scale: resumed after an interrupt or a kill, the same bytes with workers, a memory bound."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from svrlens.data import load_dataset, mesh_samples
from svrlens.data.build import BuildConfig, build_dataset
from svrlens.errors import InputError

from .meshes import box, small_collection, write_mesh

SMALL = BuildConfig(image_size=16, n_points=64, dense_points=128)


def hashes(path):
    return json.loads((path / "manifest.json").read_text())["sha256"]


def test_an_interrupted_build_continues_from_its_finished_chunks(tmp_path, monkeypatch):
    small_collection(tmp_path / "m", per_category=5)
    clean = build_dataset(tmp_path / "m", tmp_path / "clean", SMALL, jobs=0, chunk_size=2, progress=False)
    real, calls = mesh_samples.build_shape, []

    def interrupted_at_the_fifth(entry, config):
        calls.append(entry.name)
        if len(calls) == 5:
            raise KeyboardInterrupt
        return real(entry, config)

    monkeypatch.setattr(mesh_samples, "build_shape", interrupted_at_the_fifth)
    with pytest.raises(KeyboardInterrupt):
        build_dataset(tmp_path / "m", tmp_path / "data", SMALL, jobs=0, chunk_size=2, progress=False)
    assert not (tmp_path / "data").exists()
    assert len(list((tmp_path / ".data.build" / "shards").glob("*.npz"))) == 2
    # Another build into the same place is refused, not mixed in …
    with pytest.raises(InputError, match="unfinished build of other meshes or options.*--force"):
        build_dataset(
            tmp_path / "m", tmp_path / "data", BuildConfig(image_size=16, seed=1), jobs=0, progress=False
        )
    monkeypatch.setattr(mesh_samples, "build_shape", real)
    # … the same one continues: 4 meshes taken from the two finished chunks, the rest built.
    resumed = build_dataset(tmp_path / "m", tmp_path / "data", SMALL, jobs=0, chunk_size=2, progress=False)
    assert resumed.resumed == 4 and resumed.shapes == 10 == clean.shapes
    assert hashes(tmp_path / "data") == hashes(tmp_path / "clean")
    assert not (tmp_path / ".data.build").exists()


def test_a_killed_build_resumes(tmp_path):
    for k in range(120):  # enough work that the kill lands mid-build
        write_mesh(tmp_path / "m" / f"c{k % 3}" / f"b{k:03d}.obj", *box((1 + k / 50, 1, 1)))
    command = [
        sys.executable,
        "-m",
        "svrlens",
        "data",
        "build",
        str(tmp_path / "m"),
        "--out",
        str(tmp_path / "data"),
        "--jobs",
        "0",
        "--chunk-size",
        "1",
        "--image-size",
        "64",
        "--quiet",
    ]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    )
    shards = tmp_path / ".data.build" / "shards"
    deadline = time.monotonic() + 120
    while len(list(shards.glob("*.npz"))) < 3 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    done = len(list(shards.glob("*.npz")))
    assert 3 <= done < 120 and not (tmp_path / "data").exists()
    resumed = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{done} meshes taken from the interrupted build" in resumed.stdout
    clean = build_dataset(
        tmp_path / "m", tmp_path / "clean", BuildConfig(image_size=64), jobs=0, progress=False
    )
    assert clean.shapes == 120 and hashes(tmp_path / "data") == hashes(tmp_path / "clean")


def test_workers_give_the_bytes_of_one_process(tmp_path):
    small_collection(tmp_path / "m", per_category=4)
    one = build_dataset(tmp_path / "m", tmp_path / "one", SMALL, jobs=0, chunk_size=3, progress=False)
    two = build_dataset(tmp_path / "m", tmp_path / "two", SMALL, jobs=2, chunk_size=3, progress=False)
    assert two.workers == 2 and one.workers == 0
    assert hashes(tmp_path / "one") == hashes(tmp_path / "two")


def test_a_mesh_over_the_memory_bound_is_skipped_with_that_reason(tmp_path, monkeypatch):
    small_collection(tmp_path / "m", per_category=2)
    real = mesh_samples.load_mesh

    def too_big(path):
        if path.endswith("m1.obj"):
            raise MemoryError
        return real(path)

    monkeypatch.setattr(mesh_samples, "load_mesh", too_big)
    result = build_dataset(tmp_path / "m", tmp_path / "data", SMALL, jobs=0, memory_mb=64, progress=False)
    assert result.shapes == 2
    assert result.skipped == [
        (f"{c}/m1", "needs more memory than the bound of 64 MiB per worker") for c in ("chair", "table")
    ]
    assert [s["name"] for s in load_dataset(tmp_path / "data").manifest["skipped"]] == [
        "chair/m1",
        "table/m1",
    ]


def _data_limit(_):
    import resource

    return resource.getrlimit(resource.RLIMIT_DATA)[0]


def test_workers_run_under_the_memory_bound():
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        1, mp_context=context, initializer=mesh_samples.worker_init, initargs=(1536,)
    ) as pool:
        assert list(pool.map(_data_limit, [0])) == [1536 << 20]
