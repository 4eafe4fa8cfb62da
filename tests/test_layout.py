"""The package's shape: one direction of imports, no cycles, small modules, typed public functions."""

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "vae_cli"

# Every module's layer, one line each: lower ranks never import higher ones; a wing may import itself.
# A new module needs its line here (the test below says which are missing).
RANKS = {
    "vae_cli": 0,
    "vae_cli.__main__": 7,
    "vae_cli.api": 6,
    "vae_cli.backend": 0,
    "vae_cli.builtin_configs": 0,
    "vae_cli.cli": 6,
    "vae_cli.cli.arguments": 6,
    "vae_cli.cli.chosen_run": 6,
    "vae_cli.cli.completion": 6,
    "vae_cli.cli.commands": 6,
    "vae_cli.cli.commands.compare": 6,
    "vae_cli.cli.commands.completion": 6,
    "vae_cli.cli.commands.configs": 6,
    "vae_cli.cli.commands.evaluate": 6,
    "vae_cli.cli.commands.export": 6,
    "vae_cli.cli.commands.init": 6,
    "vae_cli.cli.commands.interpolate": 6,
    "vae_cli.cli.commands.list": 6,
    "vae_cli.cli.commands.plot_latent": 6,
    "vae_cli.cli.commands.reconstruct": 6,
    "vae_cli.cli.commands.sample": 6,
    "vae_cli.cli.commands.show": 6,
    "vae_cli.cli.commands.train": 6,
    "vae_cli.cli.commands.traverse": 6,
    "vae_cli.cli.commands.tune": 6,
    "vae_cli.cli.main": 6,
    "vae_cli.cli.options": 6,
    "vae_cli.cli.parser": 6,
    "vae_cli.cli.report": 6,
    "vae_cli.cli.tables": 6,
    "vae_cli.cli.tuning_flags": 6,
    "vae_cli.cli.tuning_report": 6,
    "vae_cli.cli.tuning_workers": 6,
    "vae_cli.config": 0,
    "vae_cli.data": 1,
    "vae_cli.data.imagefiles": 1,
    "vae_cli.data.load": 1,
    "vae_cli.data.mnist": 1,
    "vae_cli.data.npzfile": 1,
    "vae_cli.data.source": 1,
    "vae_cli.data.sprites": 1,
    "vae_cli.data.types": 1,
    "vae_cli.data.userdata": 1,
    "vae_cli.data.validation": 1,
    "vae_cli.defaults": 0,
    "vae_cli.errors": 0,
    "vae_cli.figures": 4,
    "vae_cli.figures.charts": 4,
    "vae_cli.figures.codec": 4,
    "vae_cli.figures.compare": 4,
    "vae_cli.figures.draw": 4,
    "vae_cli.figures.from_run": 4,
    "vae_cli.figures.kind_figures": 4,
    "vae_cli.figures.latents": 4,
    "vae_cli.figures.plots": 4,
    "vae_cli.figures.requested": 4,
    "vae_cli.figures.rows_from_run": 4,
    "vae_cli.figures.training_figures": 4,
    "vae_cli.figures.writer": 4,
    "vae_cli.kinds": 0,
    "vae_cli.kinds.ae": 4.5,  # a kind composes model layers and figures; the registry imports it by name on first use
    "vae_cli.kinds.base": 0,
    "vae_cli.kinds.btcvae": 4.5,
    "vae_cli.kinds.cvae": 4.5,
    "vae_cli.kinds.objectives": 0,
    "vae_cli.kinds.vae": 4.5,
    "vae_cli.layer_specs": 0,
    "vae_cli.layers": 2,
    "vae_cli.limits": 0,
    "vae_cli.model": 2,
    "vae_cli.model.build": 2,
    "vae_cli.model.estimate": 2,
    "vae_cli.model.fast_decode": 2,
    "vae_cli.model.from_specs": 2,
    "vae_cli.model.layers": 2,
    "vae_cli.model.likelihood": 2,
    "vae_cli.model.objectives": 2,
    "vae_cli.model.reconstruction": 2,
    "vae_cli.model.size": 2,
    "vae_cli.model.total_correlation": 2,
    "vae_cli.model.trainable": 2,
    "vae_cli.names": 0,
    "vae_cli.redaction": 0,
    "vae_cli.registry": 0,
    "vae_cli.runs": 3,
    "vae_cli.runs.atomic": 0,
    "vae_cli.runs.catalog": 3,
    "vae_cli.runs.disentanglement": 3,
    "vae_cli.runs.evaluation": 3,
    "vae_cli.runs.export": 3,
    "vae_cli.runs.folder": 3,
    "vae_cli.runs.history": 3,
    "vae_cli.runs.inference": 3,
    "vae_cli.runs.lock": 3,
    "vae_cli.runs.modelfile": 3,
    "vae_cli.runs.onnx_model": 3,
    "vae_cli.runs.records": 3,
    "vae_cli.runs.summary": 3,
    "vae_cli.runs.view": 3,
    "vae_cli.sources": 0,
    "vae_cli.training": 5,
    "vae_cli.training.board": 5,
    "vae_cli.training.callbacks": 5,
    "vae_cli.training.checkpoint": 5,
    "vae_cli.training.distribution": 5,
    "vae_cli.training.fitting": 5,
    "vae_cli.training.history": 5,
    "vae_cli.training.loop": 5,
    "vae_cli.training.manifest": 5,
    "vae_cli.training.phases": 5,
    "vae_cli.training.pipeline": 5,
    "vae_cli.training.publish": 5,
    "vae_cli.training.run": 5,
    "vae_cli.training.setup": 5,
    "vae_cli.tuning": 5.5,
    "vae_cli.tuning.algorithms": 5.5,
    "vae_cli.tuning.figures": 5.5,
    "vae_cli.tuning.held_out": 5.5,
    "vae_cli.tuning.outcomes": 5.5,
    "vae_cli.tuning.records": 5.5,
    "vae_cli.tuning.reporter": 5.5,
    "vae_cli.tuning.results": 5.5,
    "vae_cli.tuning.space": 5.5,
    "vae_cli.tuning.study": 5.5,
    "vae_cli.tuning.trial": 5.5,
    "vae_cli.tuning.worker": 5.5,
    "vae_cli.typed_sections": 0,
    "vae_cli.yamlfile": 0,
}


FLAG = re.compile(r"(^|\s)--[a-z]")  # a flag such as --resume, as opposed to a docstring's ``--set``


def module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def imports_of(name):
    """Every vae_cli module ``name`` imports, at the top or inside functions."""
    found = set()
    for node in ast.walk(ast.parse(MODULES[name].read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("vae_cli")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("vae_cli"):
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in MODULES else node.module)
    return found


def rank(name):
    if name not in RANKS:
        pytest.fail(f"{name} has no layer: give it a line in RANKS in tests/test_layout.py")
    return RANKS[name]


def test_every_module_has_a_layer():
    missing = sorted(set(MODULES) - set(RANKS))
    assert not missing, f"modules without a layer; give each a line in RANKS in tests/test_layout.py: {missing}"
    gone = sorted(set(RANKS) - set(MODULES))
    assert not gone, f"RANKS names modules that do not exist; remove their lines: {gone}"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_point_down(name):
    upward = [other for other in imports_of(name) if rank(other) > rank(name)]
    assert not upward, f"{name} (rank {rank(name)}) imports higher layers: {upward}"


def test_no_import_cycles():
    graph = {name: imports_of(name) - {name} for name in MODULES}
    state = {}

    def visit(name, stack):
        state[name] = "open"
        for other in graph[name]:
            if state.get(other) == "open":
                raise AssertionError("import cycle: " + " -> ".join([*stack[stack.index(other) :], other]))
            if other not in state:
                visit(other, [*stack, other])
        state[name] = "done"

    for name in graph:
        if name not in state:
            visit(name, [name])


def test_the_atomic_writer_imports_nothing_of_the_package():
    assert imports_of("vae_cli.runs.atomic") == set()


@pytest.mark.parametrize("name", sorted(MODULES))
def test_modules_stay_small(name):
    assert len(MODULES[name].read_text().splitlines()) <= 300


def test_only_the_command_line_prints_or_names_flags():
    for name, path in MODULES.items():
        if rank(name) >= RANKS["vae_cli.cli"]:
            continue
        tree = ast.parse(path.read_text())
        docstrings = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Expr)}
        for node in ast.walk(tree):
            if id(node) in docstrings:
                continue
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "print":
                raise AssertionError(f"{name} prints")
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                assert not FLAG.search(node.value) and "vae train" not in node.value, f"{name}: {node.value!r}"


def public_functions():
    for name, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not node.name.startswith("_"):
                yield name, node


def annotated(node):
    args = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
    args = [a for a in args if a.arg not in ("self", "cls")]
    if node.args.vararg:
        args.append(node.args.vararg)
    if node.args.kwarg:
        args.append(node.args.kwarg)
    return node.returns is not None and all(a.annotation is not None for a in args)


def test_public_functions_are_annotated():
    functions = list(public_functions())
    missing = [f"{name}.{node.name}" for name, node in functions if not annotated(node)]
    assert len(missing) <= 0.1 * len(functions), f"{len(missing)} of {len(functions)} unannotated: {missing}"


@pytest.mark.slow
def test_old_entry_points_keep_working(tmp_path):
    code = "import vae_cli.layers, keras; print(keras.saving.get_registered_object('vae_cli>VAELoss').__name__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "VAELoss"
    proc = subprocess.run([sys.executable, "-m", "vae_cli", "--version"], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.startswith("vae ")
