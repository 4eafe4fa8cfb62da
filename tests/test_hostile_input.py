"""Hostile input: resource bombs, non-finite numbers, absurd sizes and degenerate data.

Every probe must end in one line on stderr with the documented exit code, no traceback,
and no run folder left behind. The probes that would take gigabytes if a check slipped
run as real commands in a subprocess under a 2 GB address-space cap and a timeout, so a
regression fails its test instead of taking the machine down.
"""

import gzip
import io
import json
import os
import resource
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from conftest import TINY_MODEL, write_idx

from vae_cli.cli.main import main

ROOT = Path(__file__).resolve().parents[1]
MEMORY_CAP = 2 * 2**30
TIMEOUT = 60
DRIVER = "import sys; from vae_cli.cli.main import main; sys.exit(main(sys.argv[1:]))"


def _cap_memory():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def probe(args, code, tmp_path):
    """Runs ``vae ARGS`` capped at 2 GB and 60 s; checks the one-line error and that no run folder was made."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("VAE_DATA_DIR", None)
    args = [str(a) for a in args] + ["--set", f"output.dir={tmp_path / 'outputs'}"] * (args[0] == "train")
    result = subprocess.run(
        [sys.executable, "-c", DRIVER, *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        preexec_fn=_cap_memory,
        cwd=tmp_path,
        env=env,
    )
    err = result.stderr
    assert result.returncode == code, err[-3000:]
    assert err.count("\n") == 1 and "Traceback" not in err and len(err) < 500, err[-3000:]
    assert err.startswith(f"vae {args[0]}: error: ")
    assert not (tmp_path / "outputs").exists()
    return err


def one_line(capsys, args, code):
    """Runs ``vae ARGS`` in-process (for the cheap probes) and returns its one stderr line."""
    try:
        got = main([str(a) for a in args])
    except SystemExit as stop:  # argparse refuses the value
        got = stop.code
    err = capsys.readouterr().err
    assert got == code, err
    assert err.count("\n") == 1 and "Traceback" not in err and len(err) < 500, err
    return err


# ------------------------------------------------------------------ configs
def alias_bomb(levels=9):
    """The "billion laughs": 9 levels of 9 aliases each, 600 bytes that expand to 9**9 strings."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]")
    return "{" + ", ".join(lines) + "}"


@pytest.mark.slow
def test_alias_bomb_in_a_config_file(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(f"model:\n  latent_dim: {alias_bomb()}\n")
    assert "values once its aliases are expanded" in probe(["train", "--config", path], 2, tmp_path)


@pytest.mark.slow
def test_alias_bomb_in_set(tmp_path):
    assert "aliases are expanded" in probe(["train", "--set", f"model.latent_dim={alias_bomb()}"], 2, tmp_path)


@pytest.mark.slow
def test_alias_bomb_in_a_run_folders_config_yaml(tmp_path):
    run_dir = tmp_path / "received"
    run_dir.mkdir()
    manifest = {"status": "complete", "created": "2026-01-01T00:00:00+00:00", "dataset": {"name": "mnist"}}
    (run_dir / "run.json").write_text(json.dumps(manifest))
    (run_dir / "config.yaml").write_text(f"model:\n  latent_dim: {alias_bomb()}\n")
    err = probe(["show", "--run", run_dir], 1, tmp_path)
    assert "config.yaml" in err and "aliases are expanded" in err


@pytest.mark.slow
@pytest.mark.parametrize(
    "text",
    ["model:\n  latent_dim: " + "[" * 5000 + "]" * 5000, "".join("  " * i + f"k{i}:\n" for i in range(400))],
    ids=["sequences", "mappings"],
)
def test_deep_nesting(tmp_path, text):
    path = tmp_path / "deep.yaml"
    path.write_text(text)
    assert "nested more than 32 levels deep" in probe(["train", "--config", path], 2, tmp_path)


@pytest.mark.slow
def test_config_from_dev_zero(tmp_path):
    assert "over 1,000,000 bytes" in probe(["train", "--config", "/dev/zero"], 2, tmp_path)


@pytest.mark.slow
def test_a_29_mb_config(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("train:\n  epochs: 3\n" + "# padding\n" * 3_000_000)
    assert "over 1,000,000 bytes" in probe(["train", "--config", path], 2, tmp_path)


@pytest.mark.parametrize(
    "item, message",
    [
        ("data.validation_split=.nan", "data.validation_split: must be a finite number, got nan"),
        ("train.beta=.inf", "train.beta: must be a finite number, got inf"),
        ("train.learning_rate=1e400", "train.learning_rate: must be a finite number"),
        ("train.beta=1" + "0" * 400, "train.beta: must be a finite number, got int 1000"),
        ("model.latent_dim=1000000000", "model.latent_dim: must be <= 4096, got 1000000000"),
        ("model.latent_dim=0x" + "f" * 5000, "model.latent_dim: must be <= 4096, got a value too long to show"),
        ("output.name=" + "x" * 100_000, "(100,002 characters)"),
    ],
)
def test_config_values_that_are_not_finite_or_absurd(capsys, item, message):
    assert message in one_line(capsys, ["train", "--set", item], 2)


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["train", "--print-config", "--set", "data.dataset=npz", "--set", 'data.path="/tmp/x\\0y"'],
            "data.path: contains a NUL byte",
        ),
        (["train", "--print-config", "--set", 'output.dir="/tmp/cfg\\0x"'], "output.dir: contains a NUL byte"),
        (["train", "--print-config", "--config", "c\0.yaml"], "argument --config: contains a NUL byte (\\x00)"),
        (["train", "--print-config", "--resume", "run\0"], "argument --resume: contains a NUL byte"),
        (["train", "--print-config", "--data-dir", "/tmp/x\0y"], "argument --data-dir: contains a NUL byte"),
        (["train", "--print-config", "--output-dir", "/tmp/cfg\0x"], "argument --output-dir: contains a NUL byte"),
        (["sample", "--run", "run\0"], "argument --run: contains a NUL byte"),
        (["sample", "--out", "a\0.png"], "argument --out: contains a NUL byte"),
        (["compare", "--out", "a\0.png"], "argument --out: contains a NUL byte"),
    ],
)
def test_a_nul_byte_in_a_path_is_one_printable_line(capsys, args, message):
    err = one_line(capsys, args, 2)
    assert message in err and "\\x00" in err and err[:-1].isprintable(), err


@pytest.mark.parametrize("device", ["/cpu:100000", "/cpu:99999999999999999999"])
def test_a_device_index_over_the_cap_is_refused_when_the_config_is_read(capsys, device):
    args = ["train", "--print-config", "--set", "train.distribute=mirrored", "--set", f"train.devices=[{device}]"]
    assert "train.devices[0]: device indices run from 0 to 63" in one_line(capsys, args, 2)


# ------------------------------------------------------------------ paths
@pytest.mark.parametrize(
    "command",
    [
        ["sample"],
        ["export"],
        ["evaluate"],
        ["compare"],
        ["tune", "--config", ROOT / "configs/mnist.yaml", "--space", ROOT / "configs/tune_mnist.yaml", "--trials", 1],
        ["train", "--set", "train.epochs=1"],
    ],
)
def test_a_line_break_in_a_path_stays_in_the_one_line(capsys, tmp_path, data_dir, command):
    """A folder under a regular file: ENOTDIR, which stops root too, where a read-only folder does not."""
    (tmp_path / "file").write_text("")
    data = ["--data-dir", data_dir] if command[0] == "train" else []
    err = one_line(capsys, [*command, *data, "--output-dir", tmp_path / "file" / "a\nb"], 1)
    assert "file/a\\nb" in err and err.startswith(f"vae {command[0]}: error: "), err


# ------------------------------------------------------------ figure requests
@pytest.mark.parametrize(
    "args, message",
    [
        (["sample", "--range", "linear:-.:."], "'-.' is not a number"),
        (["sample", "--range", "linear:1.2.3:4"], "'1.2.3' is not a number"),
        (["sample", "--range", "linear:-1e400:1e400"], "the ends must be finite numbers"),
        (["sample", "--range", "linear:-1e300:1e300"], "latent values beyond +-1000"),
        (["sample", "--range", "ppf:nan:0.9"], "the ends must be finite numbers"),
        (["sample", "--range", "linear:" + "9" * 100_000 + ":1"], "characters)"),
        (["sample", "--dims", "0,99999"], "dimensions run from 0 to 4095"),
        (["sample", "--dims", "0," + "9" * 5000], "expected two different dimensions"),
        (["traverse", "--span", "inf"], "--span: must be above 0 and at most 1000, got inf"),
        (["traverse", "--span", "nan"], "--span: must be above 0 and at most 1000, got nan"),
        (["sample", "--grid", "1500"], "--grid: must be at most 100, got 1500"),
        (["sample", "--random", "100000"], "--random: must be at most 10,000, got 100000"),
        (["reconstruct", "-n", "100000"], "-n: must be at most 100, got 100000"),
        (["interpolate", "--steps", "100000"], "--steps: must be at most 100, got 100000"),
        (["traverse", "--steps", "1000000"], "--steps: must be at most 50, got 1000000"),
        (["evaluate", "--k", "10000000"], "--k: must be at most 100,000, got 10000000"),
        (["evaluate", "--samples", "1000000"], "--samples: must be at most 10,000, got 1000000"),
        (["sample", "--seed", "9" * 5000], "--seed: expected a whole number"),
        (["tune", "--workers", "100000"], "--workers: must be at most 64, got 100000"),
    ],
)
def test_figure_and_evaluation_requests_are_bounded(capsys, tmp_path, args, message):
    err = one_line(capsys, [*args, "--output-dir", tmp_path], 2)
    assert message in err and err.startswith(f"vae {args[0]}: error: ")


# ------------------------------------------------------------------ image files
def png_header(path, width, height):
    """A PNG that declares ``width`` x ``height`` grey pixels but holds only a few bytes of data."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    body = chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(bytes(64))) + chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + body)


def image_folder(tmp_path, bombs):
    from PIL import Image

    folder = tmp_path / "images"
    folder.mkdir()
    for i in range(4):
        Image.fromarray(np.full((28, 28), 40 * i, np.uint8)).save(folder / f"good{i}.png")
    for i, side in enumerate(bombs):
        png_header(folder / f"huge{i}.png", side, side)
    return folder


@pytest.mark.slow
@pytest.mark.parametrize(
    "sides",
    [[30000], [13000] * 4, [7000]],
    ids=["pillow-error", "pillow-warning", "over-our-cap"],
)
def test_decompression_bombs_are_refused_with_the_file_named(tmp_path, sides):
    folder = image_folder(tmp_path, sides)
    err = probe(["train", "--set", "data.dataset=image_folder", "--set", f"data.path={folder}"], 1, tmp_path)
    assert "huge0.png is over 40,000,000 pixels, too large to decode" in err


# ------------------------------------------------------------------ .npz files
def npy_bytes(shape, dtype, body=b""):
    buffer = io.BytesIO()
    header = {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)), "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue() + body


def npz_args(path):
    return [
        "train",
        "--set",
        "data.dataset=npz",
        "--set",
        f"data.path={path}",
        *sum([["--set", m] for m in TINY_MODEL], []),
    ]


@pytest.mark.slow
def test_npz_zip_bomb(tmp_path):
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("x_train.npy", npy_bytes((8, 28, 28), "u1", bytes(8 * 784)))
        archive.filelist[0].file_size = 5 * 2**30  # what the archive declares is what a bomb inflates to
    assert "would take 5,368,709,120 bytes uncompressed" in probe(npz_args(path), 1, tmp_path)


@pytest.mark.slow
def test_npz_declaring_a_terabyte_in_348_bytes(tmp_path):
    path = tmp_path / "liar.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("x_train.npy", npy_bytes((10**6, 1000, 1000), "u1"))
    assert path.stat().st_size < 400
    assert "declares shape (1000000, 1000, 1000) of uint8" in probe(npz_args(path), 1, tmp_path)


@pytest.mark.slow
def test_npy_renamed_npz(tmp_path):
    np.save(tmp_path / "x.npy", np.zeros((8, 28, 28), np.uint8))
    (tmp_path / "x.npy").rename(tmp_path / "x.npz")
    assert "is a single .npy array, not an .npz archive" in probe(npz_args(tmp_path / "x.npz"), 1, tmp_path)


@pytest.mark.slow
def test_npz_labels_of_a_trillion(tmp_path):
    path = tmp_path / "labels.npz"
    np.savez(path, x_train=np.zeros((8, 28, 28), np.uint8), y_train=np.full(8, 10**12, np.int64))
    assert "holds label 1000000000000; labels are class indices below 10,000" in probe(npz_args(path), 1, tmp_path)


# ------------------------------------------------------------------ IDX files
def idx_folder(tmp_path, images_file):
    folder = tmp_path / "mnist"
    folder.mkdir()
    images_file(folder / "train-images-idx3-ubyte.gz")
    write_idx(folder / "train-labels-idx1-ubyte.gz", np.zeros(8, np.uint8))
    write_idx(folder / "t10k-images-idx3-ubyte.gz", np.zeros((4, 28, 28), np.uint8))
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", np.zeros(4, np.uint8))
    return folder


@pytest.mark.slow
def test_idx_header_whose_size_overflows_64_bits(tmp_path):
    def images(path):
        path.write_bytes(
            gzip.compress(bytes([0, 0, 8, 3]) + b"".join(d.to_bytes(4, "big") for d in (2**22, 2**21, 2**21)))
        )

    folder = idx_folder(tmp_path, images)
    err = probe(["train", "--data-dir", folder], 1, tmp_path)
    assert "(4194304, 2097152, 2097152), 18,446,744,073,709,551,632 bytes, over the 1,073,741,824" in err


@pytest.mark.slow
def test_idx_gzip_bomb(tmp_path):
    zeros = gzip.compress(bytes(64 * 2**20), compresslevel=9)

    def images(path):  # an honest header, then 3 GB of zeros in concatenated gzip members: 3 MB on disk
        header = bytes([0, 0, 8, 3]) + b"".join(d.to_bytes(4, "big") for d in (8, 28, 28))
        path.write_bytes(gzip.compress(header + bytes(8 * 784)) + zeros * 48)

    folder = idx_folder(tmp_path, images)
    assert "has more than 6288 bytes but its header (8, 28, 28) needs 6288" in probe(
        ["train", "--data-dir", folder], 1, tmp_path
    )


# ------------------------------------------------------ degenerate data and sizes
@pytest.mark.slow
@pytest.mark.parametrize(
    "arrays, code, message",
    [
        ({"x_train": np.zeros((0, 28, 28), np.uint8), "x_test": np.zeros((4, 28, 28), np.uint8)}, 1, "no training"),
        ({"x_train": np.zeros((8, 28, 28), np.uint8), "x_test": np.zeros((0, 28, 28), np.uint8)}, 1, "no test images"),
        ({"x_train": np.zeros((4, 1, 20000), np.uint8)}, 2, "images of 1x20000 pixels are too small"),
        ({"x_train": np.zeros((2, 1, 100000), np.uint8)}, 2, "images of 1x100000 pixels are too small"),
        ({"x_train": np.zeros((8, 4, 1), np.uint8)}, 2, "images of 4x1 pixels are too small"),
        ({"x_train": np.zeros((2, 2, 600, 600), np.uint8)}, 1, "must be (N, H, W) or (N, H, W, 1 or 3) images"),
        ({"x_train": np.zeros((2, 600, 600), np.uint8)}, 1, "images are 600x600, over the 262,144 pixels a model"),
    ],
    ids=["empty-train", "empty-test", "4x1x20000", "2x1x100000", "4x1", "bad-channels", "too-many-pixels"],
)
def test_degenerate_npz_data_is_refused_before_the_run_folder(tmp_path, arrays, code, message):
    np.savez(tmp_path / "d.npz", **arrays)
    assert message in probe(npz_args(tmp_path / "d.npz"), code, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize(
    "items, message",
    [
        (["model.encoder_dense=65536", "model.encoder_filters=[64]"], "the model would have 822,"),
        (["model.architecture=mlp", "model.hidden_units=[65536, 65536]"], "parameters for 28x28x1 images, over"),
    ],
)
def test_absurd_models_are_refused_before_the_run_folder(tmp_path, data_dir, items, message):
    args = ["train", "--data-dir", data_dir, *sum([["--set", item] for item in items], [])]
    assert message in probe(args, 2, tmp_path)
