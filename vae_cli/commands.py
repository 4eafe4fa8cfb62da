"""The figure commands: from a run folder to PNG and GIF files, one batched pass per figure.

Each command writes into the run folder unless given ``--out``. The default
request keeps the plain name (``grid.png``); any other request gets a name that
says what it shows, so asking for a different figure never replaces another.
TensorFlow is imported inside the functions, never at module import.
"""

from functools import cached_property
from pathlib import Path

import numpy as np

from vae_cli import backend, runs
from vae_cli.data import DATASETS, Split, load_data, prepare
from vae_cli.defaults import GRID, GRID_RANGE, TSNE_LIMIT
from vae_cli.errors import ConfigError

GIF_SCALE = 4  # 28-pixel frames are too small to watch


class RunView:
    """A finished (or interrupted) run folder, with its models loaded on first use."""

    def __init__(self, run=None, output_dir="outputs", data_dir=None):
        self.dir = runs.resolve_run(run, output_dir)
        self.cfg = runs.read_config(self.dir)
        self.manifest = runs.read_manifest(self.dir)
        self.data_dir = data_dir
        backend.load()

    @cached_property
    def encoder(self):
        return runs.load_model(self.dir / runs.ENCODER)

    @cached_property
    def decoder(self):
        return runs.load_model(self.dir / runs.DECODER)

    @property
    def class_names(self):
        return self.manifest["dataset"].get("class_names") or DATASETS[self.cfg.data.dataset].class_names

    def load(self, splits=("test",)):
        return load_data(runs.data_config_for_run(self.cfg, self.manifest, self.data_dir), splits, self.cfg.train.seed)

    def split(self, name="test", pick=None):
        """A data split as the model sees it at test time: float32, binarized like the training data.

        ``pick(count)`` returns the indices to keep, chosen before a streamed folder is decoded.
        """
        split = getattr(self.load((name,)), name)
        keep = np.arange(len(split)) if pick is None else pick(len(split))
        if split.images is None:  # a streamed training folder: decode the chosen files now
            from vae_cli.userdata import decode_files

            images = decode_files([split.files[i] for i in keep], tuple(self.manifest["dataset"]["image_shape"]))
        else:
            images = split.images[keep]
        return Split(prepare(images, self.cfg.data.binarize), split.labels[keep])

    def title(self, what):
        from vae_cli.figures import title_prefix

        dataset = self.manifest["dataset"].get("title") or DATASETS[self.cfg.data.dataset].title
        return f"{title_prefix(dataset, self.cfg.model.latent_dim, self.manifest.get('epochs_completed', 0))}: {what}"

    def path(self, out, name):
        if not out:
            return self.dir / name
        out = Path(out)
        if out.suffix.lower() != ".png":
            raise ConfigError(f"--out {out}: figures are written as PNG; give a file name ending in .png")
        if out.is_dir():
            raise ConfigError(f"--out {out} is a folder; give a file name ending in .png")
        existing = next(p for p in out.parents if p.exists())  # missing folders are created
        if not existing.is_dir():
            raise ConfigError(f"--out {out}: {existing} is a file, not a folder")
        return out


def _suffix(*parts):
    return "".join(f"-{p}" for p in parts if p)


def sample_grid(view, n=GRID, range_text=GRID_RANGE, dims_text=None, axes=True, out=None):
    from vae_cli import figures

    latent_dim = view.cfg.model.latent_dim
    rng = figures.parse_range(range_text)
    active = dims_text == "active"  # the first two dimensions may be ones the model does not use
    if active and latent_dim < 2:
        raise ConfigError("--dims active: this run has a 1-D latent space; there is only dimension 0")
    dims = (0, 1) if active or not dims_text else figures.parse_dims(dims_text, latent_dim)
    if out:
        view.path(out, None)  # a bad --out fails before the test set is encoded
    z_means = None
    if rng[0] == "data" or active:
        z_means = figures.encode_means(view.encoder, view.split("test").images)
    if active:
        dims = tuple(_most_varied(z_means, 2))
    default = n == GRID and rng == figures.parse_range(GRID_RANGE) and dims == (0, 1) and axes
    label = "" if rng == figures.parse_range(GRID_RANGE) else f"{rng[0]}{rng[1]:g}_{rng[2]:g}"
    name = "grid.png" if default else "grid" + _suffix(
        str(n), label, "" if dims == (0, 1) else f"dims{dims[0]}_{dims[1]}", "" if axes else "plain") + ".png"
    path = view.path(out, name)
    figures.draw_manifold(view.decoder, n, view.title("decoded latent grid"), path, rng, dims, z_means, axes)
    return [path]


def sample_random(view, n, seed=0, out=None):
    from vae_cli import figures, plots

    images = figures.random_samples(view.decoder, n, seed)
    path = view.path(out, f"random-{n}-seed{seed}.png")
    cols = int(np.ceil(np.sqrt(n)))
    plots.save_image_grid(path, images, cols, view.title(f"{n} samples of z ~ N(0, I), seed {seed}"))
    return [path]


def plot_latent(view, method="pca", split="test", limit=None, seed=0, out=None):
    from vae_cli import figures

    if method == "tsne" and limit is None:
        limit = TSNE_LIMIT

    def pick(count):
        if limit is None or limit >= count:
            return np.arange(count)
        return np.sort(np.random.default_rng(seed).choice(count, limit, replace=False))

    data = view.split(split, pick)
    default = method == "pca" and split == "test" and limit is None
    seeded = limit is not None or method == "tsne"  # the seed picks the subset and the t-SNE start
    name = "latent.png" if default else "latent" + _suffix(
        method, split, limit and str(limit), seeded and seed and f"seed{seed}") + ".png"
    path = view.path(out, name)
    shown, total = len(data.labels), view.manifest["dataset"].get(f"{split}_images", len(data.labels))
    what = f"{split}-set latent means" + (f" ({shown} of {total} images)" if shown < total else "")
    figures.draw_latent(view.encoder, data.images, data.labels, view.class_names, view.title(what), path, method, seed)
    return [path]


def reconstruct(view, n=10, seed=0, out=None):
    from vae_cli import figures, plots

    test = view.split("test")
    picked = figures.pick_covering_classes(test.labels, n, seed)
    originals = test.images[picked]
    recon = figures.reconstruct(view.encoder, view.decoder, originals)
    cols = min(len(picked), 10)
    rows, labels = [], []
    for start in range(0, len(picked), cols):
        block = slice(start, start + cols)
        rows += [plots.pad_to(originals[block], cols), plots.pad_to(recon[block], cols)]
        labels += ["test", "reconstructed"]
    name = "reconstructions.png" if (n, seed) == (10, 0) else f"reconstructions-{n}-seed{seed}.png"
    path = view.path(out, name)
    title = view.title(f"{len(picked)} test images (seed {seed}) and their reconstructions from z_mean")
    plots.save_rows(path, rows, labels, title)
    return [path]


def interpolate(view, start=None, end=None, steps=10, seed=0, out=None):
    from vae_cli import figures, plots

    test = view.split("test")
    start, end = _pair(test.labels, start, end, seed)
    originals = test.images[[start, end]]
    z = figures.encode_means(view.encoder, originals)
    frames = figures.batched(view.decoder, figures.interpolation_latents(z[0], z[1], steps))
    png = view.path(out, f"interpolation-{start}-{end}" + _suffix(steps != 10 and f"{steps}steps") + ".png")
    row = np.concatenate([originals[:1], frames, originals[1:]])
    labels = [f"#{start}"] + [f"t={t:.2f}" for t in np.linspace(0, 1, steps)] + [f"#{end}"]
    what = f"straight line from z_mean of test image #{start} to #{end} ({steps} steps)"
    plots.save_rows(png, [row], ["decoded"], view.title(what), labels, highlight_cols=(0, steps + 1))
    big = np.repeat(np.repeat(frames, GIF_SCALE, axis=1), GIF_SCALE, axis=2)
    there_and_back = np.concatenate([big, big[-2:0:-1]])
    durations = [700 if i in (0, steps - 1) else 120 for i in range(steps)] + [120] * (steps - 2)
    gif = png.with_suffix(".gif")
    plots.save_gif(gif, there_and_back, durations)
    return [png, gif]


def _check_index(option, index, count):
    if index is not None and not 0 <= index < count:
        raise ConfigError(f"{option} {index}: the test set has images 0 to {count - 1}")


def _pair(labels, start, end, seed):
    count = len(labels)
    _check_index("--from", start, count)
    _check_index("--to", end, count)
    rng = np.random.default_rng(seed)
    if start is None:
        start = int(rng.integers(count))
    if end is None:  # a different class makes the more telling path
        others = np.flatnonzero(labels != labels[start])
        end = int(rng.choice(others if len(others) else np.arange(count)))
    return start, end


def traverse(view, dim=None, index=None, steps=11, span=3.0, max_dims=10, seed=0, out=None):
    from vae_cli import figures, plots

    latent_dim = view.cfg.model.latent_dim
    if dim is not None and not 0 <= dim < latent_dim:
        raise ConfigError(f"--dim {dim}: this run's latent dimensions are 0 to {latent_dim - 1}")
    test = view.split("test")
    _check_index("--index", index, len(test.labels))
    if index is None:
        index = int(np.random.default_rng(seed).integers(len(test.labels)))
    z_center = figures.encode_means(view.encoder, test.images[[index]])[0]
    if dim is not None:
        dims, note = [dim], ""
    else:
        dims, note = _most_active(view.encoder, test.images, latent_dim, max_dims)
    offsets = np.linspace(-span, span, steps)
    images = figures.batched(view.decoder, figures.traversal_latents(z_center, dims, offsets))
    rows = [images[r * steps : (r + 1) * steps] for r in range(len(dims))]
    name = f"traverse-{index}" + _suffix(dim is not None and f"dim{dim}", steps != 11 and f"{steps}steps",
                                         span != 3.0 and f"span{span:g}") + ".png"
    path = view.path(out, name)
    what = f"one latent dimension at a time around z_mean of test image #{index}{note}"
    plots.save_rows(path, rows, [f"z[{d}]" for d in dims], view.title(what), [f"{o:+.1f}" for o in offsets])
    return [path]


def _most_active(encoder, test_images, latent_dim, max_dims):
    """All dimensions, or the ``max_dims`` whose posterior means vary most over test images."""
    if latent_dim <= max_dims:
        return list(range(latent_dim)), ""
    from vae_cli import figures

    dims = _most_varied(figures.encode_means(encoder, test_images[:2000]), max_dims)
    return dims, f"\nthe {max_dims} of {latent_dim} dimensions whose z_mean varies most over test images"


def _most_varied(z_means, count):
    """The ``count`` latent dimensions whose posterior means vary most over the images, in index order."""
    return sorted(np.argsort(z_means.var(axis=0))[::-1][:count].tolist())
