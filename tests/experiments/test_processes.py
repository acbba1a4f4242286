"""The process executor (the CLI's default on a CPU): worker processes give the serial numbers."""

import pytest

from svrlens.errors import InputError
from svrlens.experiments import ProcessExecutor, SerialExecutor, local_executor, reproduce
from svrlens.experiments.runs import epochs_done, prepare_data
from svrlens.io import read_json

from .conftest import differences, numbers, predictions, same_predictions, tiny_spec


def test_two_worker_processes_give_the_serial_numbers(serial_sweep, tmp_path):
    """Fresh worker processes against serial runs made in this process after other work (the
    serial sweep runs in a deliberately disturbed process): bit for bit, predictions included."""
    serial_out, serial = serial_sweep
    results = reproduce(tiny_spec(), tmp_path, executor=ProcessExecutor(jobs=2, threads=1), progress=True)
    prov = results["provenance"]
    assert prov["executor"] == "processes" and prov["jobs"] == 2 and prov["threads_per_run"] == 1
    assert numbers(results) == numbers(serial), differences(numbers(results), numbers(serial))[:10]
    assert same_predictions(predictions(tmp_path), predictions(serial_out, tiny_spec().runs()))
    for run in tiny_spec().runs():  # what the epoch bar reads, and the threads each run trained with
        assert epochs_done(tmp_path, run) == run.train.epochs
        training = read_json(tmp_path / "runs" / run.directory / "result.json")["training"]
        assert training["threads"] == 1 and training["numerics"]["numba_threads"] == 1
        assert training["numerics"]["blas_openmp_threads"] == [1] and training["cpu"]


def test_a_failing_run_raises_its_error_in_the_parent(tmp_path):
    runs = tiny_spec().runs()
    (prepare_data(tmp_path, runs[0]) / "points.npy").write_bytes(
        b"not an npy file"
    )  # the worker's load fails
    with pytest.raises(InputError, match="points.npy"):
        list(ProcessExecutor(jobs=2, threads=1).run(runs, tmp_path, progress=False))


def test_local_executor_picks_serial_for_one_job_and_processes_otherwise():
    assert isinstance(local_executor(jobs=1), SerialExecutor)
    many = local_executor(jobs=3, threads=2)
    assert isinstance(many, ProcessExecutor) and many.jobs == 3 and many.threads == 2
    with pytest.raises(ValueError, match="jobs"):
        ProcessExecutor(jobs=0)


_ORPHAN_SCRIPT = """
import multiprocessing, os, sys, time
from concurrent.futures import ProcessPoolExecutor
from svrlens.experiments.executors import exit_with_parent

def task(path):
    with open(path, "w") as handle:
        handle.write(str(os.getpid()))
    time.sleep(120)

if __name__ == "__main__":
    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                               initializer=exit_with_parent, initargs=(os.getpid(), 0.1))
    pool.submit(task, sys.argv[1])
    time.sleep(120)
"""


def test_workers_end_when_the_sweep_process_is_killed(tmp_path):
    """A sweep killed by SIGKILL (no handler can run) must not leave workers training on."""
    import os
    import signal
    import subprocess
    import sys
    import time

    script, pid_file = tmp_path / "orphan.py", tmp_path / "worker.pid"
    script.write_text(_ORPHAN_SCRIPT)
    parent = subprocess.Popen([sys.executable, str(script), str(pid_file)])
    try:
        deadline = time.monotonic() + 60
        while not (pid_file.exists() and pid_file.read_text()) and time.monotonic() < deadline:
            time.sleep(0.1)
        worker = int(pid_file.read_text())
        os.kill(worker, 0)  # the worker is running its task
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(worker, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.kill(worker, signal.SIGKILL)
    raise AssertionError("the worker outlived its killed parent by 10 s")
