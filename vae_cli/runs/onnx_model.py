"""ONNX copies of Keras models: written through Keras's exporter (which drives tf2onnx), run by ONNX Runtime.

``vae export --format onnx`` writes them for other programs; training writes a run's
encoder and decoder as ONNX too, so that the figure commands decode without TensorFlow
(``runs.inference``). ONNX Runtime imports in a fifth of a second, TensorFlow in 4 to 6.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vae_cli.errors import Fix, RunError
from vae_cli.runs.atomic import atomic_write


def converter_version() -> str:
    """tf2onnx's version; a ``RunError`` naming what to install when it or onnxruntime is absent."""
    try:
        import onnxruntime  # noqa: F401
        import tf2onnx
    except ImportError as exc:
        raise RunError(
            f"ONNX export needs tf2onnx and onnxruntime ({exc.name} is not installed)", Fix("onnx")
        ) from None
    return tf2onnx.__version__


def write_onnx(model: Any, path: str | Path) -> Path:
    """``model`` (called at least once) as an ONNX file at ``path``, written atomically, its outputs named as
    the Keras model's; a model the converter cannot handle is a ``RunError`` saying so."""
    import tensorflow as tf

    def write(tmp: str) -> None:
        try:
            model.export(tmp, format="onnx", verbose=False)
        except Exception as exc:  # tf2onnx raises many kinds for a TensorFlow it does not support
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
            raise RunError(
                f"ONNX export failed: tf2onnx {converter_version()} could not convert this model under "
                f"TensorFlow {tf.__version__} ({reason}); no maintained converter supports it yet, the other "
                "formats are unaffected"
            ) from None
        name_onnx_outputs(tmp, list(model.output_names))

    return atomic_write(path, write)


def name_onnx_outputs(path: str | Path, names: list[str]) -> None:
    """Gives the ONNX graph's outputs the Keras model's output names (z_mean, z_log_var; x_prob) in place of
    the converter's ``Identity:0``, ``Identity_1:0``, so a client asks for what it means."""
    import onnx

    proto = onnx.load(str(path))
    graph = proto.graph
    taken = {v for node in graph.node for v in (*node.input, *node.output)} | {i.name for i in graph.input}
    for output, name in zip(graph.output, names, strict=True):
        old = output.name
        if old == name or name in taken:  # already so named, or the name is another value's: kept as is
            continue
        for node in graph.node:
            node.output[:] = [name if v == old else v for v in node.output]
            node.input[:] = [name if v == old else v for v in node.input]
        output.name = name
    onnx.save(proto, str(path))


@dataclass(frozen=True)
class Port:
    """An input or output of an ONNX graph, shaped as Keras shapes a tensor: None for a free dimension."""

    name: str
    shape: tuple[int | None, ...]


def _port(arg: Any) -> Port:
    return Port(arg.name, tuple(d if isinstance(d, int) else None for d in arg.shape))


class OnnxModel:
    """An ONNX Runtime session behind the part of a Keras model's interface the figures use: ``inputs``,
    ``outputs`` and ``output`` (their shapes), and a call on NumPy arrays in the Keras model's input order."""

    def __init__(self, path: str | Path) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3  # its warnings about unused initialisers are the converter's business
        self.path = Path(path)
        self.name = self.path.stem  # encoder | decoder: as the Keras model it copies is named
        self.session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.inputs = [_port(a) for a in self.session.get_inputs()]
        self.outputs = [_port(a) for a in self.session.get_outputs()]

    @property
    def output(self) -> Port:
        return self.outputs[0]

    def __call__(self, inputs: Any, training: bool = False) -> np.ndarray | list[np.ndarray]:
        """The outputs for ``inputs``; a copy that fails, or gives other shapes than it declares, is a
        ``RunError`` naming it (a run folder's files edited by hand: delete the copy, the figures then load
        the ``.h5`` model)."""
        arrays = inputs if isinstance(inputs, (list, tuple)) else [inputs]
        feed = {port.name: np.asarray(a, dtype="float32") for port, a in zip(self.inputs, arrays, strict=True)}
        count = len(arrays[0])
        try:
            outputs = self.session.run(None, feed)
        except Exception as exc:  # ONNX Runtime's own kinds: a failed allocation, a graph that cannot run
            why = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
            raise self._damaged(why) from None
        for port, out in zip(self.outputs, outputs, strict=True):
            declared = (count, *port.shape[1:])
            if out.ndim != len(declared) or any(
                d is not None and d != s for d, s in zip(declared, out.shape, strict=True)
            ):
                raise self._damaged(f"it gave shape {out.shape} for {count} inputs, not {declared}")
        return outputs[0] if len(outputs) == 1 else outputs

    def _damaged(self, why: str) -> RunError:
        return RunError(
            f"{self.path} cannot be used ({why}); delete it, and the figures load {self.path.stem}.h5 instead"
        )
