"""Every figure of the tool, drawn with matplotlib's Agg backend and saved atomically.

Functions take arrays, not models: the callers decode each figure's images in
one batched pass and hand them over.
"""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
import numpy as np  # noqa: E402

from vae_cli.runs import atomic_write  # noqa: E402

DPI = 100


def tile(images, rows, cols, pad=0):
    """(rows*cols, H, W, C) images -> one (rows*H, cols*W[, C]) canvas, row-major."""
    images = np.asarray(images)
    n, h, w, c = images.shape
    if n != rows * cols:
        raise ValueError(f"tile needs rows*cols={rows * cols} images. Received: {n}")
    canvas = np.ones((rows * (h + pad) - pad, cols * (w + pad) - pad, c), dtype=images.dtype)
    for i in range(n):
        r, k = divmod(i, cols)
        canvas[r * (h + pad) : r * (h + pad) + h, k * (w + pad) : k * (w + pad) + w] = images[i]
    return canvas[..., 0] if c == 1 else canvas


def _show(ax, canvas):
    grey = canvas.ndim == 2
    ax.imshow(canvas, cmap="gray" if grey else None, vmin=0.0, vmax=1.0, interpolation="nearest")


def _save(fig, path):
    try:
        atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=DPI, bbox_inches="tight"))
    finally:
        plt.close(fig)
    return path


def save_manifold(path, images, x_values, y_values, title, xlabel="z[0]", ylabel="z[1]"):
    """The latent-space grid: ``images[r * n + c]`` decoded at (x_values[c], y_values[r])."""
    rows, cols = len(y_values), len(x_values)
    h, w = images.shape[1:3]
    canvas = tile(images, rows, cols)
    size = max(4.0, min(12.0, cols * w / 45))
    fig, ax = plt.subplots(figsize=(size + 0.8, size + 0.8))
    _show(ax, canvas)
    step = max(1, cols // 8)
    ax.set_xticks(np.arange(cols)[::step] * w + (w - 1) / 2, _tick_labels(x_values[::step]))
    ax.set_yticks(np.arange(rows)[::step] * h + (h - 1) / 2, _tick_labels(y_values[::step]))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    return _save(fig, path)


def _tick_labels(values):
    return [f"{round(float(v), 2) + 0.0:.2f}" for v in values]  # + 0.0 turns -0.0 into 0.0


def save_image_grid(path, images, cols, title=None):
    """Images in a plain grid, no axes (epoch samples, random samples)."""
    rows = int(np.ceil(len(images) / cols))
    missing = rows * cols - len(images)
    if missing:
        images = np.concatenate([images, np.ones((missing, *images.shape[1:]), images.dtype)])
    canvas = tile(images, rows, cols, pad=1)
    fig, ax = plt.subplots(figsize=(max(3.0, cols * 0.45), max(3.0, rows * 0.45) + (0.4 if title else 0)))
    _show(ax, canvas)
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=9)
    return _save(fig, path)


def save_latent_scatter(path, points, labels, class_names, title, axis_labels=("z[0]", "z[1]")):
    """2-D latent points coloured by class, with a legend of class names."""
    fig, ax = plt.subplots(figsize=(8.5, 7))
    cmap = plt.get_cmap("tab10" if len(class_names) <= 10 else "tab20")
    order = np.random.default_rng(0).permutation(len(points))  # no class painted over the others
    ax.scatter(
        points[order, 0], points[order, 1], c=labels[order], cmap=cmap,
        vmin=-0.5, vmax=cmap.N - 0.5, s=3, alpha=0.7, linewidths=0,
    )
    handles = [
        plt.Line2D([], [], marker="o", linestyle="", markersize=6, color=cmap(i), label=name)
        for i, name in enumerate(class_names)
    ]
    ax.legend(handles=handles, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False, fontsize=9)
    ax.set_xlabel(axis_labels[0])
    ax.set_ylabel(axis_labels[1])
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.2)
    return _save(fig, path)


def save_loss_curves(path, history, title):
    """Total, reconstruction and KL per epoch, train and validation, one panel each."""
    epochs = np.asarray(history["epoch"])
    parts = [("loss", "loss (-ELBO when beta = 1)"), ("reconstruction_loss", "reconstruction"), ("kl_loss", "KL")]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    for ax, (key, label) in zip(axes, parts):
        ax.plot(epochs, history[key], marker="o", markersize=3, label="train")
        if f"val_{key}" in history:
            ax.plot(epochs, history[f"val_{key}"], marker="o", markersize=3, label="test")
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        ax.set_ylabel("nats per image")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return _save(fig, path)
