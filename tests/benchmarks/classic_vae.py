"""The classic Keras VAE script, as the field's tutorials run it: the baseline to beat.

Same architecture and loss as vae's default model, trained the way the usual blog
script does it: float32 NumPy arrays handed to ``fit``, batch 32, Adam 1e-3, up to
10 epochs, early stopping (patience 3) on the test loss, float32 throughout.
Prints one JSON line: wall time, seconds per epoch, test -ELBO.

    python tests/benchmarks/classic_vae.py --data-dir ../shared/datasets
"""

import argparse
import json
import time

START = time.perf_counter()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", metavar="DIR", default=None, help="MNIST IDX folder (default: $VAE_DATA_DIR)")
    parser.add_argument("--epochs", type=int, default=10, metavar="N", help="(default: 10)")
    parser.add_argument("--seed", type=int, default=0, metavar="N", help="(default: 0)")
    args = parser.parse_args()

    from vae_cli import backend

    backend.load()
    import keras
    import numpy as np

    from vae_cli.config import DataConfig, ModelConfig
    from vae_cli.data.load import load_data
    from vae_cli.data.types import to_float
    from vae_cli.model.build import build_models

    data = load_data(DataConfig(data_dir=args.data_dir))
    # The classic script trains on all 60,000 images: the tool's validation split goes back in.
    x_train = to_float(np.concatenate([data.train.images, data.validation.images]))
    x_test = to_float(data.test.images)
    keras.utils.set_random_seed(args.seed)
    vae = build_models(ModelConfig(), x_train.shape[1:], seed=args.seed).vae
    vae.compile(optimizer=keras.optimizers.Adam(1e-3))
    epoch_seconds = []

    class Clock(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            epoch_seconds.append(time.perf_counter() - self.start)

    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
    vae.fit(x_train, batch_size=32, epochs=args.epochs, validation_data=(x_test,), callbacks=[stop, Clock()], verbose=2)
    test = vae.evaluate(x_test, batch_size=32, verbose=0, return_dict=True)
    print(
        json.dumps(
            {
                "wall_seconds": time.perf_counter() - START,
                "epochs": len(epoch_seconds),
                "seconds_per_epoch": float(np.median(epoch_seconds)),
                "negative_elbo": test["reconstruction_loss"] + test["kl_loss"],
            }
        )
    )


if __name__ == "__main__":
    main()
