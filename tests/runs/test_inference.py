"""The figures' light inference path: the ONNX copies a run gets at its end compute what the Keras models do,
for every kind and architecture, and a figure command then never imports TensorFlow."""

import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import TINY_MODEL

from vae_cli.cli.main import main
from vae_cli.names import DECODER, ENCODER
from vae_cli.runs import inference
from vae_cli.runs.onnx_model import OnnxModel
from vae_cli.runs.view import RunView

pytestmark = pytest.mark.slow

LAYERS = [
    "model.architecture=layers",
    "model.encoder_layers=[{conv: 4, stride: 2, activation: leaky_relu}, {pool: 2, padding: same}, {dense: 8, activation: selu}]",
    "model.decoder_layers=[{dense: 196, activation: selu}, {reshape: [7, 7, 4]}, {upsample: 2}, "
    "{conv_transpose: 4, stride: 2, padding: same, activation: elu}, {conv: 1, kernel: 3, padding: same}]",
]
CASES = {
    "vae-conv": TINY_MODEL,
    "vae-conv_deep": [*TINY_MODEL, "model.architecture=conv_deep"],
    "vae-mlp": ["model.architecture=mlp", "model.hidden_units=[16, 8]", "model.activation=tanh"],
    "vae-layers": LAYERS,
    "vae-gaussian": [*TINY_MODEL, "model.likelihood=gaussian", "model.activation=swish"],
    "ae": [*TINY_MODEL, "model.kind=ae"],
    "cvae": [*TINY_MODEL, "model.kind=cvae"],
    "btcvae": [*TINY_MODEL, "model.kind=btcvae", "model.activation=softplus"],
    "colour": [*TINY_MODEL, "model.latent_dim=8", "data.dataset=npz"],
}


def train(data_dir, out, items, colour_file=None):
    args = ["train", "--data-dir", str(data_dir), "--set", f"output.dir={out}", "--set", "model.latent_dim=3"]
    if colour_file is not None:
        args += ["--set", f"data.path={colour_file}"]
    for item in [*items, "train.epochs=1", "train.batch_size=32"]:
        args += ["--set", item]
    assert main(args) == 0
    (run,) = out.iterdir()
    return run


@pytest.fixture(scope="module")
def colour_file(tmp_path_factory):
    rng = np.random.default_rng(0)
    path = tmp_path_factory.mktemp("colour") / "colour.npz"
    np.savez(path, x_train=rng.integers(0, 255, (96, 12, 10, 3), np.uint8), y_train=np.arange(96) % 3)
    return path


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_onnx_copies_compute_what_keras_computes(case, data_dir, colour_file, tmp_path, capsys):
    run = train(data_dir, tmp_path / "out", CASES[case], colour_file if case == "colour" else None)
    record = json.loads((run / "run.json").read_text())[inference.RECORD]
    assert sorted(record) == ["decoder.onnx", "encoder.onnx"]
    view = RunView(run)
    rng = np.random.default_rng(1)
    for name, keras_model, figure_model in (
        (ENCODER, view.encoder, view.figure_encoder),
        (DECODER, view.decoder, view.figure_decoder),
    ):
        assert isinstance(figure_model, OnnxModel)
        assert [p.shape[1:] for p in figure_model.inputs] == [tuple(t.shape[1:]) for t in keras_model.inputs]
        x = inference.check_inputs(keras_model, name, rng, count=40)
        expected = inference.as_list(keras_model(x if len(x) > 1 else x[0], training=False))
        got = inference.as_list(figure_model(x))
        assert len(got) == len(expected)
        for g, e in zip(got, expected, strict=True):
            assert g.shape == e.shape and g.dtype == np.float32
            assert np.max(np.abs(g - e)) <= 1e-5, (case, name, np.max(np.abs(g - e)))
    # The figure's pixels: the same grid through both paths.
    capsys.readouterr()
    out_onnx, out_keras = tmp_path / "onnx.png", tmp_path / "keras.png"
    assert main(["sample", "--grid", "4", "--run", str(run), "--out", str(out_onnx)]) == 0
    import os

    os.environ[inference.KERAS_ONLY] = "keras"
    try:
        assert main(["sample", "--grid", "4", "--run", str(run), "--out", str(out_keras)]) == 0
    finally:
        del os.environ[inference.KERAS_ONLY]
    from PIL import Image

    a, b = (np.asarray(Image.open(p), dtype=int) for p in (out_onnx, out_keras))
    assert a.shape == b.shape and np.abs(a - b).max() <= 1  # 8-bit pixels: a rounding step at most


@pytest.fixture(scope="module")
def run_dir(data_dir, tmp_path_factory):
    return train(data_dir, tmp_path_factory.mktemp("inference"), TINY_MODEL)


def test_a_figure_command_never_imports_tensorflow(run_dir, tmp_path):
    code = (
        "import sys\n"
        "from vae_cli.cli.main import main\n"
        f"assert main(['sample', '--grid', '5', '--run', {str(run_dir)!r}, '--out', {str(tmp_path / 'g.png')!r}]) == 0\n"
        f"assert main(['reconstruct', '-n', '4', '--run', {str(run_dir)!r}, '--out', {str(tmp_path / 'r.png')!r}]) == 0\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
    assert (tmp_path / "g.png").is_file() and (tmp_path / "r.png").is_file()


def test_a_changed_model_file_or_record_means_keras(run_dir, tmp_path):
    import shutil

    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    assert isinstance(RunView(copy).figure_decoder, OnnxModel)
    manifest = json.loads((copy / "run.json").read_text())
    manifest[inference.RECORD]["decoder.onnx"]["source_sha256"] = "0" * 64  # as after decoder.h5 is rewritten
    (copy / "run.json").write_text(json.dumps(manifest))
    view = RunView(copy)
    assert not isinstance(view.figure_decoder, OnnxModel) and isinstance(view.figure_encoder, OnnxModel)


def test_a_damaged_copy_means_keras_and_the_figure_is_still_drawn(run_dir, tmp_path, capsys):
    import shutil

    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    (copy / "decoder.onnx").write_bytes(b"not an onnx file")
    assert not isinstance(RunView(copy).figure_decoder, OnnxModel)
    manifest = json.loads((copy / "run.json").read_text())
    manifest[inference.RECORD]["decoder.onnx"]["sha256"] = inference.sha256_of(copy / "decoder.onnx")
    (copy / "run.json").write_text(json.dumps(manifest))  # recorded as it now is: ONNX Runtime refuses it
    assert not isinstance(RunView(copy).figure_decoder, OnnxModel)
    assert main(["sample", "--grid", "3", "--run", str(copy)]) == 0
    assert (copy / "grid.png").is_file()


def test_a_copy_that_cannot_be_written_is_left_out(run_dir, tmp_path, monkeypatch):
    from vae_cli.errors import RunError
    from vae_cli.runs import onnx_model

    def broken(model, path):
        path.write_bytes(b"half a file")
        raise RunError("ONNX export failed: tf2onnx could not convert this model")

    monkeypatch.setattr(onnx_model, "write_onnx", broken)
    view = RunView(run_dir)
    models = {ENCODER: view.encoder, DECODER: view.decoder}
    sources = {name: tmp_path / f"{name}.h5" for name in models}
    assert inference.write_copies(tmp_path, models, sources) == {}
    assert not list(tmp_path.glob("*.onnx"))


def test_a_copy_that_disagrees_with_keras_is_left_out(run_dir, tmp_path, monkeypatch):
    shifted = OnnxModel.__call__
    monkeypatch.setattr(OnnxModel, "__call__", lambda self, x, training=False: np.asarray(shifted(self, x)) + 1e-3)
    view = RunView(run_dir)
    sources = {DECODER: run_dir / "decoder.h5"}
    assert inference.write_copies(tmp_path, {DECODER: view.decoder}, sources) == {}
    assert not (tmp_path / "decoder.onnx").exists()


def test_a_model_the_converter_cannot_handle_keeps_its_keras_figures(data_dir, tmp_path, capsys):
    # tf2onnx has no Erfc, which gelu needs: the encoder gets no copy, and the figures encode with Keras.
    items = [
        *TINY_MODEL,
        "model.architecture=layers",
        "model.encoder_layers=[{conv: 4, stride: 2}, {dense: 8, activation: gelu}]",
    ]
    items.append("model.decoder_layers=[{dense: 196}, {reshape: [7, 7, 4]}, {upsample: 4}, {conv: 1, padding: same}]")
    run = train(data_dir, tmp_path / "out", items)
    captured = capsys.readouterr()
    assert "Erfc" not in captured.err + captured.out  # the converter's complaints are not the user's business
    assert sorted(json.loads((run / "run.json").read_text())[inference.RECORD]) == ["decoder.onnx"]
    assert not (run / "encoder.onnx").exists()
    view = RunView(run)
    assert isinstance(view.figure_decoder, OnnxModel) and not isinstance(view.figure_encoder, OnnxModel)
    assert main(["plot-latent", "--run", str(run)]) == 0 and (run / "latent.png").is_file()


def test_a_replaced_copy_is_not_used_even_if_it_is_a_valid_model(run_dir, tmp_path):
    import shutil

    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    shutil.copy(copy / "encoder.onnx", copy / "decoder.onnx")  # a valid ONNX model, not the recorded one
    assert not isinstance(RunView(copy).figure_decoder, OnnxModel)


@pytest.mark.parametrize("record", [None, "text", [], {"decoder.onnx": "abc"}, {"decoder.onnx": {"sha256": 1}}])
def test_a_damaged_record_means_keras(run_dir, tmp_path, record):
    import shutil

    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    manifest = json.loads((copy / "run.json").read_text())
    manifest[inference.RECORD] = record
    (copy / "run.json").write_text(json.dumps(manifest))
    assert not isinstance(RunView(copy).figure_decoder, OnnxModel)


def record_copy(run, name):
    """run.json records ``name`` (an .onnx file in ``run``) as it now is: as someone editing the folder would."""
    manifest = json.loads((run / "run.json").read_text())
    path = run / name
    manifest[inference.RECORD][name] |= {"sha256": inference.sha256_of(path), "bytes": path.stat().st_size}
    (run / "run.json").write_text(json.dumps(manifest))


def test_a_recorded_copy_of_other_shapes_is_not_used(run_dir, tmp_path):
    import shutil

    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    shutil.copy(copy / "encoder.onnx", copy / "decoder.onnx")  # takes images, gives codes: not a decoder
    record_copy(copy, "decoder.onnx")
    assert not isinstance(RunView(copy).figure_decoder, OnnxModel)


def test_a_copy_giving_other_shapes_than_it_declares_is_one_line(run_dir, tmp_path, capsys):
    import shutil

    import onnx
    from onnx import TensorProto, helper

    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    one_image = helper.make_tensor("one", TensorProto.FLOAT, [1, 28, 28, 1], [0.5] * 784)
    graph = helper.make_graph(
        [helper.make_node("Constant", [], ["x_prob"], value=one_image)],
        "liar",
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, ["n", 3])],
        [helper.make_tensor_value_info("x_prob", TensorProto.FLOAT, ["n", 28, 28, 1])],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), copy / "decoder.onnx")
    record_copy(copy, "decoder.onnx")
    assert isinstance(RunView(copy).figure_decoder, OnnxModel)  # it declares the right shapes
    capsys.readouterr()
    assert main(["sample", "--grid", "3", "--run", str(copy)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "decoder.onnx cannot be used (it gave shape (1, 28, 28, 1) for 9" in err
    assert "delete it, and the figures load decoder.h5 instead" in err
    (copy / "decoder.onnx").unlink()
    assert main(["sample", "--grid", "3", "--run", str(copy)]) == 0  # as the line says
