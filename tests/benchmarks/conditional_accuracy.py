"""Are a conditional VAE's samples the class asked for? A classifier trained on MNIST's labels reads them.

Trains a small convolutional classifier on the MNIST training images (its test
accuracy is printed), then classifies the images of ``vae sample --label k
--random N --seed S`` for every class k and prints the share read as k. The
README's target for ``configs/mnist_cvae.yaml``: at least 90 % for every k.

    python tests/benchmarks/conditional_accuracy.py --run outputs/mnist_cvae-... --data-dir ../shared/datasets
"""

import argparse
import json
from typing import Any

import numpy as np


def label_accuracy(run_dir: str, classifier: Any, n: int = 1000, seed: int = 0) -> list[float]:
    """For each class k, the share of ``vae sample --label k --random n --seed seed`` images classified as k."""
    from vae_cli.figures import kind_figures
    from vae_cli.figures.from_run import codec_of
    from vae_cli.runs.view import RunView

    codec = codec_of(RunView(run_dir))
    shares = []
    for label in range(codec.classes):
        z, _ = kind_figures.random_codes(codec, n, seed, None)  # what `sample --random` decodes
        images = codec.decode(z, np.full(n, label))
        shares.append(float(np.mean(classifier.predict(images, verbose=0).argmax(axis=1) == label)))
    return shares


def mnist_classifier(data_dir: str | None, epochs: int = 3, seed: int = 0) -> tuple[Any, float]:
    """A small CNN trained on the 60,000 MNIST training images; returns it and its test accuracy."""
    import keras

    from vae_cli.config import DataConfig
    from vae_cli.data import mnist
    from vae_cli.data.types import to_float

    data = mnist.MNIST.read(DataConfig(data_dir=data_dir))
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Conv2D(32, 3, activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Conv2D(64, 3, activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Flatten(),
            keras.layers.Dense(128, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(to_float(data.train.images), data.train.labels, epochs=epochs, batch_size=128, verbose=2)
    accuracy = model.evaluate(to_float(data.test.images), data.test.labels, verbose=0, return_dict=True)["accuracy"]
    return model, float(accuracy)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", metavar="DIR", required=True, help="a run of model.kind: cvae on MNIST")
    parser.add_argument("--data-dir", metavar="DIR", default=None, help="MNIST IDX folder (default: $VAE_DATA_DIR)")
    parser.add_argument("--n", type=int, default=1000, metavar="N", help="samples per class (default: 1000)")
    parser.add_argument("--seed", type=int, default=0, metavar="N", help="(default: 0)")
    args = parser.parse_args()

    from vae_cli import backend

    backend.load()
    classifier, test_accuracy = mnist_classifier(args.data_dir)
    shares = label_accuracy(args.run, classifier, args.n, args.seed)
    print(json.dumps({"classifier_test_accuracy": test_accuracy, "per_class": shares, "lowest": min(shares)}))


if __name__ == "__main__":
    main()
