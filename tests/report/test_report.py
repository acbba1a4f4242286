import json
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser

import numpy as np
import pytest
from experiments.conftest import tiny_spec  # tests/ is on sys.path (rootdir conftest)

from svrlens.errors import InputError
from svrlens.experiments import SerialExecutor, reproduce
from svrlens.experiments.sweep import write_diagnosis_results
from svrlens.report import build_report


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep")
    reproduce(tiny_spec(sets=(1, 4, 7)), out, executor=SerialExecutor(threads=1), progress=False)
    return out


class _Images(HTMLParser):
    def __init__(self):
        super().__init__()
        self.sources, self.links = [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.sources.append(attrs.get("src", ""))
        for key in ("href", "src"):
            if attrs.get(key, "").startswith(("http:", "https:", "//")):
                self.links.append(attrs[key])


def test_report_is_self_contained_with_every_figure(sweep_dir):
    path = build_report(sweep_dir)
    html = path.read_text()
    parser = _Images()
    parser.feed(html)
    assert parser.links == []  # nothing fetched from the network
    assert len(parser.sources) >= 5 and all(s.startswith("data:image/png;base64,") for s in parser.sources)
    for source in parser.sources:  # every inline figure is a complete PNG
        import base64

        data = base64.b64decode(source.split(",", 1)[1])
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[-8:-4] == b"IEND"
    for text in (
        "Verdict per data set",
        "fig. 3",
        "fig. 4",
        "fig. 5",
        "fig. 6",
        "fig. 8",
        "Every number",
        "Provenance",
        "1.2.1",
        "1.2.4",
        "1.2.7",
        "within-cluster gain",
        "The rule.",
        "NOT MADE",  # three 3-epoch models: the checks cannot be made, and say so
        "did not train",
    ):
        assert text in html
    results = json.loads((sweep_dir / "results.json").read_text())
    score = results["datasets"]["1.2.7"]["output_tendency"]["score"]
    assert f"{score:.3f}" in html  # the numbers in the report are the results' numbers
    assert f"{results['datasets']['1.2.7']['statistic']['score']:.2f}" in html
    assert results["provenance"]["svrlens_version"] in html
    for figure in (
        "fig3-coverage-1.2.png",
        "fig4-tendencies.png",
        "fig5-matrices-1.2.png",
        "fig6-scores.png",
        "fig-verdict.png",
    ):
        assert (sweep_dir / "figures" / figure).is_file() and (sweep_dir / "figures" / figure).with_suffix(
            ".svg"
        ).is_file()


def test_report_escapes_user_provided_names(tmp_path, sweep_dir):
    diagnosis = json.loads(
        (next(sweep_dir.glob("runs/1.2.7-*")) / "diagnosis" / "diagnosis.json").read_text()
    )
    hostile = '<img src=x onerror="alert(1)">&<script>alert(2)</script>'
    write_diagnosis_results(diagnosis, tmp_path, name=hostile)
    html = build_report(tmp_path, title=f"diagnosis of {hostile}").read_text()
    assert hostile not in html and "<script>alert" not in html and 'onerror="alert' not in html
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;&amp;&lt;script&gt;alert(2)&lt;/script&gt;" in html
    assert html.count("<script>") == 1  # only the report's own figure check


def test_report_errors_name_the_problem(tmp_path):
    with pytest.raises(InputError, match="no results.json here"):
        build_report(tmp_path)
    (tmp_path / "results.json").write_text("{broken")
    with pytest.raises(InputError, match="results.json: not valid JSON"):
        build_report(tmp_path)
    (tmp_path / "results.json").write_text(json.dumps({"something": "else"}))
    with pytest.raises(InputError, match="not a svrlens results file"):
        build_report(tmp_path)
    (tmp_path / "results.json").write_text(json.dumps({"datasets": {}}))
    with pytest.raises(InputError, match="holds no data sets"):
        build_report(tmp_path)


def _chromium():
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.mark.skipif(
    _chromium() is None, reason="headless Chromium is not installed (apt-get install chromium)"
)
def test_report_renders_in_headless_chromium(sweep_dir, tmp_path):
    report = build_report(sweep_dir)
    flags = [
        _chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--no-first-run",
        "--disable-dev-shm-usage",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--enable-logging=stderr",
        "--v=0",
    ]
    dom = subprocess.run(
        [*flags, "--virtual-time-budget=5000", "--dump-dom", report.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert 'data-broken-figures="0"' in dom.stdout  # every <img> decoded (set by the report's load check)
    console_errors = [
        line
        for line in dom.stderr.splitlines()
        if "CONSOLE" in line and ("Uncaught" in line or "Error" in line)
    ]
    assert console_errors == []
    for width in (1400, 800):  # a desktop window and half a laptop screen: nothing cut off at the right
        laid_out = subprocess.run(
            [
                *flags,
                f"--window-size={width},1000",
                "--virtual-time-budget=5000",
                "--dump-dom",
                report.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert 'data-overflow="false"' in laid_out.stdout, f"horizontal overflow at {width} px"
    shot = tmp_path / "report.png"
    subprocess.run(
        [*flags, "--hide-scrollbars", "--window-size=1200,2400", f"--screenshot={shot}", report.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    from PIL import Image

    image = np.asarray(Image.open(shot).convert("L"))
    assert image.shape == (2400, 1200) and image.std() > 10  # a rendered page, not a blank one


def test_cli_report_and_reproduce_from_a_spec(sweep_dir, tmp_path):
    run = lambda *args: subprocess.run(
        [sys.executable, "-m", "svrlens", *args], capture_output=True, text=True, timeout=600
    )  # noqa: E731
    done = run("report", str(sweep_dir))
    assert done.returncode == 0 and "report.html" in done.stdout
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(tiny_spec(sets=(1, 4, 7)).to_dict()))
    # The same spec on the same directory: every run is skipped, the table is printed.
    again = run("reproduce", "--spec", str(spec), "--out", str(sweep_dir), "--quiet", "--cpus-per-run", "1")
    assert again.returncode == 0, again.stderr
    assert (
        re.search(r"1\.2\.7\s+\d\s+(recognition|reconstruction|mixed|collapsed)", again.stdout)
        and "3 runs (3 already finished)" in again.stdout
    )
    assert "rising_1.2: not made: models that did not train" in again.stdout and "NOT MADE" in again.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["reproduce", "--preset", "huge"], "argument --preset: invalid choice: 'huge'"),
        (["reproduce", "--spec", "MISSING.json"], "MISSING.json: no such spec file"),
        (["report", "NOWHERE"], "NOWHERE: no results.json here"),
        (["reproduce", "--jobs", "0"], "argument --jobs: expected an integer ≥ 1, found 0"),
        (["reproduce", "--cpus-per-run", "-2"], "argument --cpus-per-run: expected an integer ≥ 1, found -2"),
    ],
)
def test_cli_bad_specs_exit_2_with_one_line(tmp_path, args, message):
    done = subprocess.run(
        [sys.executable, "-m", "svrlens", *args], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert done.returncode == 2 and message in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_cli_spec_with_unknown_key_exits_2(tmp_path):
    data = tiny_spec().to_dict()
    data["studies"][0]["train"]["epoch"] = 3
    (tmp_path / "spec.json").write_text(json.dumps(data))
    done = subprocess.run(
        [sys.executable, "-m", "svrlens", "reproduce", "--spec", "spec.json"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert (
        done.returncode == 2
        and "spec.json: studies[0].train: unknown key 'epoch'" in done.stderr
        and len(done.stderr.strip().splitlines()) == 1
    )
    assert not (tmp_path / "svrlens-results").exists()  # validated before anything was written


def test_instruments_side_by_side_in_results_and_report(sweep_dir):
    """Every set carries the dispersion score (a K sweep, per role, and the ratio) and the copying
    test beside the tendencies and the verdict statistic; the report tabulates and plots them."""
    from svrlens.experiments.results import format_results

    results = json.loads((sweep_dir / "results.json").read_text())
    html = build_report(sweep_dir).read_text()
    assert "Instruments side by side" in html and "DS ratio K=2" in html and "C_T (p)" in html
    for name, entry in results["datasets"].items():
        ds, copying = entry["dispersion"], entry["copying"]
        assert ds["ks"][0] == ds["headline_k"] == 2
        for role in ("images", "shapes", "predictions", "test_truths"):
            assert ds[role]["2"]["score"] >= 0  # K = 2 fits every set (≥ 3 samples)
        ratio = ds["ratio"]["2"]
        assert ratio is None or ratio["score"] >= 0
        assert copying is not None and np.isfinite(copying["score"]) and len(copying["p_values"]) == 1
        assert f"{copying['score']:+.2f}" in html
    assert (sweep_dir / "figures" / "fig-instruments.png").is_file()
    table = format_results(results)
    assert "DS ratio" in table.splitlines()[0] and "C_T" in table.splitlines()[0]


def test_instruments_figure_takes_every_family(sweep_dir, tmp_path):
    """One row per family with ≥ 2 sets (here 1.2 and a copy of it standing for 1.1)."""
    import matplotlib.image

    from svrlens.report import figures

    datasets = json.loads((sweep_dir / "results.json").read_text())["datasets"]
    both = dict(datasets) | {
        name.replace("1.2.", "1.1."): entry | {"family": "1.1"} for name, entry in datasets.items()
    }
    one = matplotlib.image.imread(figures.instruments(datasets, tmp_path / "one"))
    two = matplotlib.image.imread(figures.instruments(both, tmp_path / "two"))
    assert two.shape[0] > 1.5 * one.shape[0] and two.shape[1] == one.shape[1]  # a second row
    assert figures.instruments({"x": datasets["1.2.1"] | {"family": None}}, tmp_path / "none") is None
