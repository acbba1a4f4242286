"""The classes of input and output faults, each at its root (issue 16), where a row of the refusal
table (tests/test_refusals.py: exit 2, one line) cannot say it: inputs that are read correctly or
with a documented warning (files other tools wrote, 16-bit and keyed PNGs, upper-case suffixes,
odd meshes and splits), the CLI's error boundary for bugs, a full disk, atomic writers and whole
result directories, torn logs and damaged caches, and options generated from the typed configs."""

import errno
import json
import os
import warnings

import numpy as np
import pytest
import trimesh
from PIL import Image

from svrlens import io
from svrlens.cli import REPORT_BUG, build_parser, main
from svrlens.data.folder import load_folder
from svrlens.errors import InputError
from tests import refusals as r

# ----------------------------------------------------------------------------- text from other tools


@pytest.mark.parametrize(
    "encode",
    [
        lambda text: text.encode("utf-8"),
        lambda text: b"\xef\xbb\xbf" + text.encode("utf-8"),  # Notepad's UTF-8 with BOM
        lambda text: text.encode("utf-16"),  # BOM included
        lambda text: text.encode("utf-32"),
        lambda text: text.replace("\n", "\r\n").encode("utf-8"),
    ],
    ids=["utf8", "utf8-bom", "utf16", "utf32", "crlf"],
)
def test_json_and_lists_from_any_editor_read_the_same(tmp_path, encode):
    (tmp_path / "a.json").write_bytes(encode('{\n "train": ["s00", "café"]\n}\n'))
    assert io.read_json(tmp_path / "a.json") == {"train": ["s00", "café"]}
    (tmp_path / "a.txt").write_bytes(encode("02691156 airplane\n\n03001627 chair\n"))
    assert io.read_lines(tmp_path / "a.txt") == ["02691156 airplane", "03001627 chair"]


def test_upper_case_suffixes_are_read_and_no_sample_is_dropped(tmp_path):
    """18 samples: images .png/.PNG, shapes .npy/.NPY/.PLY — every one is read."""
    folder = r.user_folder(tmp_path, n=18)
    for k in range(0, 18, 3):
        (folder / "images" / f"s{k:02d}.png").rename(folder / "images" / f"s{k:02d}.PNG")
        (folder / "shapes" / f"s{k:02d}.npy").rename(folder / "shapes" / f"s{k:02d}.NPY")
    trimesh.creation.box().export(folder / "shapes" / "s01.PLY")
    (folder / "shapes" / "s01.npy").unlink()
    data = load_folder(folder, n_points=64, dense_points=0)
    assert len(data) == 18 and data.manifest["names"] == [f"s{k:02d}" for k in range(18)]
    assert np.ptp(data.points[1], axis=0) == pytest.approx([1, 1, 1], abs=0.3)  # the box, sampled


# ----------------------------------------------------------------------------- images


def test_a_16_bit_gray_ramp_is_scaled_not_clipped(tmp_path):
    ramp = (np.arange(16, dtype=np.uint16) * 1024).reshape(4, 4)
    Image.fromarray(ramp).save(tmp_path / "g.png")
    rgb = io.read_image(tmp_path / "g.png")
    assert rgb.dtype == np.uint8 and rgb.shape == (4, 4, 3)
    assert rgb[..., 0].ravel().tolist() == [round(v * 1024 / 257) for v in range(16)]  # 0, 4, 8, …
    assert rgb[0, :3, 0].tolist() == [0, 4, 8]


@pytest.mark.parametrize(
    "mode, pixels, key",
    [
        ("L", np.array([[0, 100], [200, 0]], np.uint8), 0),
        ("RGB", np.array([[[0, 0, 0], [10, 20, 30]], [[40, 50, 60], [0, 0, 0]]], np.uint8), (0, 0, 0)),
        ("I;16", np.array([[0, 25700], [51400, 0]], np.uint16), 0),
    ],
)
def test_a_transparency_key_is_composited_on_white(tmp_path, mode, pixels, key):
    Image.fromarray(pixels).save(tmp_path / "t.png", transparency=key)
    rgb = io.read_image(tmp_path / "t.png")
    assert (rgb[0, 0] == 255).all() and (rgb[1, 1] == 255).all()  # the keyed pixels: white
    assert not (rgb[0, 1] == 255).all()  # the others: as they were


def test_an_image_beyond_the_pixel_bound_is_refused_before_decoding(tmp_path):
    Image.new("1", (8193, 4097)).save(tmp_path / "big.png")  # 33.6 M pixels, 4 kB on disk
    with pytest.raises(InputError, match=r"big.png: 8193x4097 pixels: expected at most 33,554,432"):
        io.read_image(tmp_path / "big.png")


# ----------------------------------------------------------------------------- arrays and meshes


def test_an_unrelated_pickled_member_does_not_refuse_an_npz(tmp_path):
    np.savez(tmp_path / "p.npz", points=np.ones((2, 4, 3), np.float32), extra=np.array([{}], object))
    assert io.load_npz(tmp_path / "p.npz", required=("points",))["points"].shape == (2, 4, 3)
    with pytest.raises(InputError, match=r"member 'extra' holds Python objects"):
        io.load_npz(tmp_path / "p.npz", required=("points",), optional=("extra",))


def test_mesh_sanity_warnings_and_the_cloud_read_instead(tmp_path):
    from svrlens.data.clouds import raw_cloud

    flat = trimesh.Trimesh([[0, 0, 0], [1, 0, 0], [2, 0, 0]], [[0, 1, 2]], process=False)
    flat.export(tmp_path / "flat.ply")
    with pytest.warns(UserWarning, match="flat.ply: the mesh has faces but zero area"):
        cloud = raw_cloud(tmp_path / "flat.ply", np.random.default_rng(0))
    assert cloud.tolist() == [[0, 0, 0], [1, 0, 0], [2, 0, 0]]  # its vertices, as a cloud
    box = trimesh.creation.box()
    spare = np.vstack([box.vertices, np.random.default_rng(0).normal(size=(20, 3))])
    trimesh.Trimesh(spare, box.faces, process=False).export(tmp_path / "spare.ply")
    with pytest.warns(UserWarning, match="spare.ply: 20 of 28 vertices are used by no face"):
        raw_cloud(tmp_path / "spare.ply", np.random.default_rng(0))


def test_user_folder_warnings_and_the_data_still_read(tmp_path):
    folder = r.user_folder(tmp_path, split={"train": ["s00", "s01", "s02"], "test": ["s02", "s03"]})
    np.save(folder / "shapes" / "orphan.npy", np.zeros((64, 3)))
    (folder / "images" / "notes.txt").write_text("x")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = load_folder(folder, n_points=64, dense_points=0)
    text = " | ".join(str(w.message) for w in caught)
    assert "1 samples are in both train and test (first: 's02')" in text
    assert "1 shapes have no image and are not read (first: 'orphan')" in text
    assert "1 files are not PNG images and are not read (first: 'notes.txt')" in text
    assert data.splits["train"].tolist() == [0, 1, 2] and data.splits["test"].tolist() == [2, 3]


# ----------------------------------------------------------------------------- the CLI's error boundary


def test_a_bug_is_a_traceback_exit_1_and_a_request_to_report_it(monkeypatch, capsys, tmp_path):
    """A ValueError or TypeError that is not an InputError is svrlens's fault, not the user's."""

    def broken(*args, **kwargs):
        raise ValueError("an internal inconsistency")

    monkeypatch.setattr("svrlens.experiments.inspect.distances_from_path", broken)
    np.save(tmp_path / "d.npy", np.array([[0.0, 1.0], [1.0, 0.0]]))
    assert main(["tendency", str(tmp_path / "d.npy"), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "ValueError: an internal inconsistency" in err
    assert err.strip().splitlines()[-1] == REPORT_BUG


@pytest.mark.parametrize("command", ["tendency", "preview"])
def test_a_full_disk_names_the_path_and_leaves_nothing(monkeypatch, capsys, tmp_path, command):
    """The kernel's own ENOSPC (/dev/full) under the temporary name of an atomic write: a JSON
    result, and a figure whose SVG (written after its PNG) does not fit — the PNG goes too."""
    if command == "tendency":
        np.save(tmp_path / "d.npy", np.array([[0.0, 1.0], [1.0, 0.0]]))
        full_file = tmp_path / "t.json"
        argv = ["tendency", str(tmp_path / "d.npy"), "--json", str(full_file), "--quiet"]
    else:
        dataset = r.base_dataset(tmp_path / "data")
        full_file = tmp_path / "p.svg"
        argv = ["data", "preview", str(dataset), "--out", str(tmp_path / "p.png"), "--count", "2"]
    before = sorted(p.name for p in tmp_path.iterdir())
    real = io.tempfile.mkstemp

    def full(prefix, suffix, dir):
        fd, name = real(prefix=prefix, suffix=suffix, dir=dir)
        if not prefix.startswith(f".{full_file.name}."):
            return fd, name
        os.close(fd)
        return os.open("/dev/full", os.O_WRONLY), name

    monkeypatch.setattr(io.tempfile, "mkstemp", full)
    assert main(argv) == 2
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert line == f"svrlens: error: {full_file}: cannot write ({os.strerror(errno.ENOSPC)})"
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_every_option_has_help_with_its_default():
    def parsers(parser):
        yield parser
        for action in parser._actions:
            for sub in getattr(action, "choices", None) or {}:
                if isinstance(action.choices, dict):
                    yield from parsers(action.choices[sub])

    missing = []
    for parser in parsers(build_parser()):
        for action in parser._actions:
            if action.option_strings and action.dest not in ("help", "version"):
                takes_value = action.nargs != 0
                if not action.help or (takes_value and "default" not in action.help and not action.required):
                    missing.append(f"{parser.prog} {action.option_strings[0]}")
    assert not missing, missing


# ----------------------------------------------------------------------------- writers


def test_atomic_write_keeps_the_old_file_when_a_write_fails(tmp_path):
    path = tmp_path / "a.json"
    io.write_json(path, {"old": 1})

    def half(handle):
        handle.write(b'{"new":')
        raise RuntimeError("killed mid-write")

    with pytest.raises(RuntimeError):
        io.atomic_write(path, half)
    assert io.read_json(path) == {"old": 1} and sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]


def test_published_directory_is_all_or_nothing(tmp_path):
    out = tmp_path / "out"
    with io.published_directory(out, owned=("a.txt", "b.txt")) as staging:
        (staging / "a.txt").write_text("1")
        (staging / "b.txt").write_text("1")
    with pytest.raises(RuntimeError), io.published_directory(out, owned=("a.txt", "b.txt")) as staging:
        (staging / "a.txt").write_text("2")
        raise RuntimeError("failed half-way")
    assert sorted(p.name for p in out.iterdir()) == ["a.txt", "b.txt"] and (out / "a.txt").read_text() == "1"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no staging left
    with io.published_directory(out, owned=("a.txt", "b.txt")) as staging:
        (staging / "a.txt").write_text("3")
    assert sorted(p.name for p in out.iterdir()) == ["a.txt"]  # the earlier set replaced whole


def test_diagnose_writes_its_directory_whole_or_not_at_all(tmp_path, monkeypatch):
    base = r.base_dataset(tmp_path)
    predictions = r.predictions(tmp_path, "p.npz")
    out = tmp_path / "out"
    args = ["diagnose", "--train", str(base), "--predictions", str(predictions), "--out", str(out)]
    assert main([*args, "--bootstrap", "10", "--null-references", "1", "--quiet"]) == 0
    first = sorted(p.name for p in out.iterdir())
    assert {"diagnosis.json", "summary.txt", "results.json", "report.html", "figures"} <= set(first)

    def broken_report(*args, **kwargs):
        raise InputError("report failed")

    monkeypatch.setattr("svrlens.report.build_report", broken_report)
    assert main([*args, "--bootstrap", "10", "--seed", "1", "--null-references", "1", "--quiet"]) == 2
    assert sorted(p.name for p in out.iterdir()) == first  # the earlier complete set, untouched
    assert json.loads((out / "diagnosis.json").read_text())["provenance"]["seed"] == 0
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]


# ----------------------------------------------------------------------------- logs and caches


def test_a_torn_last_log_line_is_dropped_a_torn_middle_one_named(tmp_path):
    from svrlens.training.rundir import read_log, resume_log

    log = tmp_path / "log.jsonl"
    log.write_text('{"epoch": 0, "seconds": 1.5}\n{"epoch": 1, "seconds": 2.0}\n{"epoch": 2, "sec')
    assert [rec["epoch"] for rec in read_log(log)] == [0, 1]
    assert resume_log(log, 0) == 1.5 and log.read_text() == '{"epoch": 0, "seconds": 1.5}\n'
    log.write_text('{"epoch": 0}\n{"epo\n{"epoch": 2}\n')
    with pytest.raises(
        InputError, match=r"log.jsonl: line 2: expected a JSON object with an integer 'epoch'"
    ):
        read_log(log)


def test_a_garbage_cache_record_or_block_is_recomputed(tmp_path):
    from svrlens.evaluation.blocks import blocked_chamfer
    from svrlens.geometry import pairwise_chamfer

    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(5, 8, 3)).astype(np.float32), rng.normal(size=(3, 8, 3)).astype(np.float32)
    want = pairwise_chamfer(a, b)
    blocked_chamfer(a, b, cache_dir=tmp_path, block_rows=2)
    blocks = sorted(tmp_path.glob("block_*.npy"))
    np.save(blocks[0], np.full((2, 3), 7.0))  # a block of other data, of the right shape
    (tmp_path / "cache.json").write_text("{garbage")
    with pytest.warns(UserWarning, match="cache.json: unreadable cache record; its blocks are recomputed"):
        got = blocked_chamfer(a, b, cache_dir=tmp_path, block_rows=2)
    np.testing.assert_array_equal(got, want)
    blocks[1].write_bytes(blocks[1].read_bytes()[:-7])  # truncated by a kill
    np.testing.assert_array_equal(blocked_chamfer(a, b, cache_dir=tmp_path, block_rows=2), want)
    with pytest.raises(InputError, match="holds blocks of other data"):
        blocked_chamfer(b, a, cache_dir=tmp_path, block_rows=2)


# ----------------------------------------------------------------------------- one typed configuration


def test_options_build_the_config_and_keep_the_presets(tmp_path):
    from svrlens.cli import _train_config

    args = build_parser().parse_args(["train", "d", "--out", "o", "--epochs", "7", "--decoder-width", "64"])
    config = _train_config(args)
    assert config.epochs == 7 and config.model.decoder_width == 64
    assert config.image_size == 64 and config.model.grid_size == 16  # the laptop preset's
    args = build_parser().parse_args(["train", "d", "--out", "o", "--preset", "paper"])
    assert _train_config(args).model.decoder_width == 512
