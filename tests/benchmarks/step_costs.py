"""Training-step costs for bench.py: each layer alone, and whole steps under each speed setting."""

import statistics
import time
from pathlib import Path

SHIPPED = Path(__file__).resolve().parents[2] / "configs" / "mnist.yaml"


def layer_flops(layer):
    """Multiply-adds x 2 per image of one Dense / Conv2D / Conv2DTranspose forward pass, else 0."""
    import keras

    if isinstance(layer, keras.layers.Conv2DTranspose):
        _, h, w, c_in = layer.input.shape
        return 2 * h * w * c_in * layer.filters * layer.kernel_size[0] * layer.kernel_size[1]
    if isinstance(layer, keras.layers.Conv2D):
        _, h, w, c_out = layer.output.shape
        return 2 * h * w * c_out * layer.input.shape[-1] * layer.kernel_size[0] * layer.kernel_size[1]
    if isinstance(layer, keras.layers.Dense):
        return 2 * layer.input.shape[-1] * layer.units
    return 0


def compute_layers(vae):
    """The VAE's Dense and convolution layers, encoder first, in the order data flows through them."""
    parts = [vae.get_layer("encoder"), vae.get_layer("decoder")]
    return [layer for part in parts for layer in part.layers if layer_flops(layer)]


def matmul_gflops(tf, n=2048, repeats=7):
    """The machine's float32 matrix-product rate on all cores: the FLOP floor's denominator."""
    a = tf.random.uniform((n, n))
    (a @ a).numpy()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        (a @ a).numpy()
        times.append(time.perf_counter() - start)
    return 2 * n**3 / statistics.median(times) / 1e9


def images_per_second(model_cfg, images, batch, policy, numpy_arrays=False, passes=3):
    """Median per-step training rate of a fresh model over ``passes`` epochs of ``images`` (after one warm-up)."""
    import keras
    import numpy as np

    from vae_cli.config import TrainConfig
    from vae_cli.data.types import to_float
    from vae_cli.model.build import build_models
    from vae_cli.training.fitting import compile_vae
    from vae_cli.training.pipeline import TrainingImages, train_pipeline

    class StepClock(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.stamps = [time.perf_counter()]

        def on_train_batch_end(self, batch, logs=None):
            self.stamps.append(time.perf_counter())

    keras.mixed_precision.set_global_policy(policy)
    keras.utils.set_random_seed(0)
    vae = build_models(model_cfg, images.shape[1:], TrainConfig(seed=0)).vae
    compile_vae(vae, TrainConfig(batch_size=batch, learning_rate=1e-3), len(images))
    keras.mixed_precision.set_global_policy("float32")
    clock, steps = StepClock(), []
    for rep in range(passes + 1):
        if numpy_arrays:
            vae.fit(to_float(images), batch_size=batch, epochs=1, verbose=0, callbacks=[clock], shuffle=True)
        else:
            ds = train_pipeline(TrainingImages(images), batch, 0, 1)
            vae.fit(ds, epochs=1, steps_per_epoch=-(-len(images) // batch), verbose=0, callbacks=[clock], shuffle=False)
        if rep:  # the first pass traces the graph
            steps.extend(np.diff(clock.stamps))
    return batch / float(np.median(steps))


def training_flops(model_cfg):
    """FLOP per image per training step: the forward pass and twice that for the backward pass."""
    from vae_cli.model.build import build_models

    return 3 * sum(layer_flops(layer) for layer in compute_layers(build_models(model_cfg, (28, 28, 1)).vae))


def bench_throughput(args):
    from vae_cli import backend

    tf = backend.load()
    from vae_cli.config import ModelConfig, load_config

    cfg = load_config(SHIPPED)
    precision = backend.resolve_precision(cfg.train.precision)
    images = _train_images(args)[:12800]
    models = {"classic": ModelConfig(), "shipped": cfg.model}  # the classic script's model is the default one
    flops = {kind: training_flops(model_cfg) for kind, model_cfg in models.items()}
    peak = matmul_gflops(tf)
    batch = cfg.train.batch_size
    cases = [
        ("classic: NumPy arrays to fit, float32", "classic", 32, "float32", True),
        ("tf.data pipeline, float32", "classic", 32, "float32", False),
        (f"tf.data pipeline, {precision}", "classic", 32, precision, False),
        ("tf.data pipeline, float32", "classic", batch, "float32", False),
        (f"tf.data pipeline, {precision}", "classic", batch, precision, False),
        (
            f"shipped model (encoder Dense {cfg.model.encoder_dense}): tf.data, {precision}",
            "shipped",
            batch,
            precision,
            False,
        ),
    ]
    print(f"\n## Training throughput (median over {args.repeats_steps} x {len(images)} images, per-step times)\n")
    print(
        f"The classic model costs {flops['classic'] / 1e6:.1f} MFLOP per image per training step, the "
        f"shipped one {flops['shipped'] / 1e6:.1f}; the float32 matrix product on this machine runs at "
        f"{peak:.0f} GFLOP/s.\n"
    )
    print("| setting | batch | images/s | s per 60k epoch (steps only) | fraction of FLOP floor |")
    print("| --- | --- | --- | --- | --- |")
    for name, kind, batch, policy, numpy_arrays in cases:
        rate = images_per_second(models[kind], images, batch, policy, numpy_arrays, args.repeats_steps)
        fraction = rate * flops[kind] / 1e9 / peak
        print(f"| {name} | {batch} | {rate:.0f} | {60000 / rate:.1f} | {fraction:.0%} |", flush=True)


def bench_layers(args):
    """Forward + backward time of each layer alone, at the shipped batch size and precision."""
    from vae_cli import backend

    tf = backend.load()
    import keras

    from vae_cli.config import load_config
    from vae_cli.model.build import build_models

    cfg = load_config(SHIPPED)
    batch, precision = cfg.train.batch_size, backend.resolve_precision(cfg.train.precision)
    keras.mixed_precision.set_global_policy(precision)
    models = build_models(cfg.model, (28, 28, 1))
    keras.mixed_precision.set_global_policy("float32")
    rows = []
    for layer in compute_layers(models.vae):
        shape = (batch,) + tuple(layer.input.shape[1:])
        x = tf.cast(tf.random.uniform(shape), layer.compute_dtype)
        needs_input_grad = layer.input is not models.encoder.inputs[0]  # nothing flows back into the data

        def step(x, layer=layer, needs_input_grad=needs_input_grad):
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = layer(x)
                loss = tf.reduce_sum(tf.cast(y, "float32") ** 2)
            sources = ([x] if needs_input_grad else []) + layer.trainable_weights
            return [y] + tape.gradient(loss, sources)  # y returned, so the forward pass is timed too

        seconds = _median_call(tf.function(step), x, args.repeats_steps * 5)
        rows.append((layer, seconds))
    total = sum(seconds for _, seconds in rows)
    print(
        f"\n## Cost of each layer (forward + backward alone, batch {batch}, {precision}, median of "
        f"{args.repeats_steps * 5} x 20 calls)\n"
    )
    print("| layer | shape in -> out | MFLOP per image (fwd) | ms per step | share | GFLOP/s (fwd + bwd) |")
    print("| --- | --- | --- | --- | --- | --- |")
    for layer, seconds in rows:
        fl = layer_flops(layer)
        print(
            f"| {layer.name} ({layer.__class__.__name__}) | {tuple(layer.input.shape[1:])} -> "
            f"{tuple(layer.output.shape[1:])} | {fl / 1e6:.2f} | {seconds * 1e3:.2f} | {seconds / total:.0%} "
            f"| {3 * fl * batch / seconds / 1e9:.0f} |"
        )
    step_rate = images_per_second(cfg.model, _train_images(args)[:6400], batch, precision, passes=args.repeats_steps)
    print(
        f"\nA whole training step: {batch / step_rate * 1e3:.1f} ms. Alone, each layer pays its own call "
        f"overhead and runs on both cores by itself, so the layers' sum ({total * 1e3:.1f} ms) can exceed it; "
        "the shares are what to read."
    )


def _median_call(fn, x, repeats, calls=20):
    for _ in range(3):
        fn(x)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            out = fn(x)
        for tensor in out:
            tensor.numpy()  # wait for the last call to finish
        times.append((time.perf_counter() - start) / calls)
    return statistics.median(times)


def _train_images(args):
    from vae_cli.config import DataConfig
    from vae_cli.data.load import load_data

    return load_data(DataConfig(data_dir=args.data_dir)).train.images
