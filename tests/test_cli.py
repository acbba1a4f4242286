import subprocess
import sys

import pytest

from svrlens import __version__
from svrlens.cli import main


def run_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "svrlens", *args], capture_output=True, text=True, timeout=300
    )


def test_version_and_help():
    result = run_cli("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"svrlens {__version__}"
    result = run_cli("--help")
    assert result.returncode == 0 and "demo" in result.stdout


@pytest.mark.parametrize(
    "args,message",
    [
        (["--bogus"], "svrlens: error: unrecognized arguments: --bogus"),
        (["demo", "--shapes", "x"], "svrlens: error: argument --shapes: invalid int value: 'x'"),
        (["demo", "--shapes", "3"], "svrlens: error: demo: expected --shapes ≥ 10"),
        (["nonsense"], "svrlens: error: argument COMMAND: invalid choice: 'nonsense'"),
    ],
)
def test_bad_input_is_one_line_exit_2(args, message):
    result = run_cli(*args)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), result.stderr
    assert "Traceback" not in result.stderr


def test_demo_separates_clustered_from_continuous(capsys):
    assert main(["demo", "--shapes", "40", "--points", "256", "--quiet"]) == 0
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines()[2:4]]
    clustered, continuous = float(rows[0][-5]), float(rows[1][-5])
    assert rows[0][-6] == "2"  # the two ends are found as two clusters
    assert clustered > continuous + 0.1, out
