"""The bench's baseline: a 2020 blog post's Keras 2 VAE script, ported to Keras 3 with the fewest changes.

The script is the kind users copy: a Chinese blog post (2020-04-30) training a VAE on
MNIST with Keras, adapted by its author from *Deep Learning with Python* and the Zhihu
article https://zhuanlan.zhihu.com/p/54032548. Its model, loss and training are kept as
written: Conv2D 32 and 64 (3x3, stride 2, ReLU), Dense 64, a 2-D latent space, decoder
Dense 14x14x64, Conv2DTranspose 32, Conv2D 1 (5x5) with a sigmoid output; the loss
``mean BCE over pixels + 5e-4 x mean(KL terms)`` in a loss layer; ``z = mean + exp(v) * eps``
in a ``Lambda`` layer (v is used as a log-variance in the KL but as a log standard
deviation in the sampling, as in the original); float32 NumPy arrays to ``fit``, batch 32,
Adam with its defaults, the test set as validation data, early stopping on ``val_loss``
with patience 2 (no best-weights restore), 10 epochs.

What changed, and why:

1. ``keras.backend`` maths (``K.flatten``, ``K.mean``, ``K.square``, ``K.exp``, ``K.shape``,
   ``K.random_normal``) -> ``keras.ops`` and ``keras.random``: Keras 3's backend module
   has none of them. ``K.flatten(t)`` is ``ops.reshape(t, (-1,))``.
2. ``self.add_loss(loss, inputs=inputs)`` -> ``self.add_loss(loss)``: Keras 3's ``add_loss``
   takes no ``inputs``.
3. ``Input(shape=lambda_layer.output_shape[1:])`` -> ``Input(shape=(latent_dim,))``: Keras 3
   layers have no ``output_shape``; ``Dense(np.prod(hide_shape))`` -> ``Dense(int(...))``:
   Keras 3 refuses a NumPy integer as ``units``.
4. ``from keras.engine.saving import load_model`` and ``from keras.datasets import mnist``
   dropped (no ``keras.engine`` in Keras 3); MNIST is read from the four IDX files in
   ``--data-dir`` (the same files ``keras.datasets`` downloads, through vae_cli's reader),
   because the bench machine has no internet.
5. ``save_h5``, ``load_h5``, ``show_result`` and ``show_fit`` are not called: they write
   ``.h5`` files into the working folder and open matplotlib windows, neither of which a
   timed run can do; the bench times training (their ``matplotlib`` and ``scipy`` imports
   went with them). Comments are shortened; the commented-out pooling layers are gone.
6. The module-level statements moved into ``main()`` with three flags: ``--seed`` (one
   ``keras.utils.set_random_seed`` call before anything random: NumPy's shuffle, the
   weights, eps), ``--epochs`` (the literal 10 is the default) and ``--data-dir``.
7. Measuring: ``fit`` is timed and a callback stamps each epoch; after training, the
   test -ELBO is measured as ``vae evaluate`` measures it (``vae_cli.model.estimate``:
   reconstruction summed over pixels from the logits + KL, beta 1, Monte Carlo over 10
   sampled z per image), on the posterior the model actually samples from,
   N(mean, exp(v)^2), i.e. a log-variance of 2v. The measurement is not timed.

The last line printed is one JSON object: training seconds, seconds per epoch, epochs,
test -ELBO and its two terms.

    python tests/benchmarks/blog_vae.py --data-dir ../shared/datasets --seed 0
"""

import argparse
import json
import time

import keras
import numpy as np
from keras import Input, Model, ops
from keras.callbacks import EarlyStopping
from keras.layers import Conv2D, Conv2DTranspose, Dense, Flatten, Lambda, Reshape

START = time.perf_counter()

input_shape = (28, 28, 1)
batch_size = 32
latent_dim = 2


def get_data(data_dir=None):
    from vae_cli.config import DataConfig
    from vae_cli.data.load import load_data

    data = load_data(DataConfig(data_dir=data_dir))
    x_train, x_test = data.train.images[..., 0], data.test.images[..., 0]  # as mnist.load_data() gives them
    x_train = x_train.astype("float32") / 255.0
    x_test = x_test.astype("float32") / 255.0
    # 数据集本来是(None,28,28)的结构的，把它整成图片的三维(None,28,28,1)
    x_train = x_train.reshape((x_train.shape[0],) + input_shape)
    x_test = x_test.reshape((x_test.shape[0],) + input_shape)
    x_train = random_data(x_train)
    x_test = random_data(x_test)
    print("x_train.shape", x_train.shape)
    print("x_test.shape", x_test.shape)
    return x_train, x_test


def random_data(data):
    indexs = np.arange(data.shape[0])
    np.random.shuffle(indexs)
    return data[indexs]


def create_model():
    # 这里的卷积层步长为2，用来缩小下一层的图片大小
    conv2D_layer1 = Conv2D(32, 3, padding="same", activation="relu", strides=(2, 2))
    conv2D_layer2 = Conv2D(64, 3, padding="same", activation="relu", strides=(2, 2))
    flatten_layer = Flatten()
    # 将卷积层摊平后最好加个全连接层映射一下，效果会有比较明显的提升
    dense_layer1 = Dense(64, activation="relu")
    # 将全连接层分别映射到正态分布的均值和方差，这里的正态分布是二维的，所以latent_dim取2
    mean_layer = Dense(latent_dim)
    variance_layer = Dense(latent_dim)

    # 通过均值和方差，算一个小小的偏移均值的张量
    lambda_layer = Lambda(mean_variance_merge, output_shape=(latent_dim,))

    hide_shape = (14, 14, 64)
    dense_layer2 = Dense(int(np.prod(hide_shape)), activation="relu")  # Keras 3 refuses a NumPy integer
    reshape_layer = Reshape(hide_shape)
    conv2DTranspose_layer1 = Conv2DTranspose(32, 3, padding="same", activation="relu", strides=(2, 2))
    # 最后加个卷积层拍扁一下特征数，变为1。
    conv2D_layer4 = Conv2D(1, 5, padding="same", activation="sigmoid")
    # 计算损失的层
    vae_loss_layer = VaeLossLayer()

    input_tensor = Input(shape=input_shape)
    output_tensor = input_tensor
    output_tensor = conv2D_layer1(output_tensor)
    output_tensor = conv2D_layer2(output_tensor)
    output_tensor = flatten_layer(output_tensor)
    output_tensor = dense_layer1(output_tensor)
    mean_output_tensor = mean_layer(output_tensor)
    variance_output_tensor = variance_layer(output_tensor)

    output_tensor = lambda_layer([mean_output_tensor, variance_output_tensor])

    output_tensor = dense_layer2(output_tensor)
    output_tensor = reshape_layer(output_tensor)
    output_tensor = conv2DTranspose_layer1(output_tensor)
    output_tensor = conv2D_layer4(output_tensor)
    output_tensor = vae_loss_layer([input_tensor, output_tensor, mean_output_tensor, variance_output_tensor])

    vae = Model(input_tensor, output_tensor)
    vae.name = "vae"
    # 已经在损失层里计算损失了，所以loss=None
    vae.compile(optimizer="adam", loss=None)
    vae.summary()

    output_tensor = input_tensor
    output_tensor = conv2D_layer1(output_tensor)
    output_tensor = conv2D_layer2(output_tensor)
    output_tensor = flatten_layer(output_tensor)
    output_tensor = dense_layer1(output_tensor)
    mean_output_layer = mean_layer(output_tensor)
    encoder = Model(input_tensor, mean_output_layer)
    encoder.name = "encoder"
    encoder.summary()

    input_tensor = Input(shape=(latent_dim,))  # Keras 2: lambda_layer.output_shape[1:]
    output_tensor = input_tensor
    output_tensor = dense_layer2(output_tensor)
    output_tensor = reshape_layer(output_tensor)
    output_tensor = conv2DTranspose_layer1(output_tensor)
    output_tensor = conv2D_layer4(output_tensor)
    decoder = Model(input_tensor, output_tensor)
    decoder.name = "decoder"
    decoder.summary()

    return encoder, decoder, vae


def create_vae_loss_tensor(input_tensor, output_tensor, mean_output_tensor, variance_output_tensor):
    # 要把输入张量与输出张量摊平，才能使用binary_crossentropy方法来计算损失
    input_tensor = ops.reshape(input_tensor, (-1,))
    output_tensor = ops.reshape(output_tensor, (-1,))
    xent_loss_tensor = keras.metrics.binary_crossentropy(input_tensor, output_tensor)
    kl_loss_tensor = -5e-4 * ops.mean(
        1 + variance_output_tensor - ops.square(mean_output_tensor) - ops.exp(variance_output_tensor), axis=-1
    )
    # 然后把两个损失算个平均值一下作为总损失
    vae_loss_tensor = ops.mean(xent_loss_tensor + kl_loss_tensor)
    return vae_loss_tensor


class VaeLossLayer(keras.layers.Layer):
    """建一个自定义层用来计算损失"""

    def call(self, inputs):
        input_tensor = inputs[0]
        output_tensor = inputs[1]
        mean_output_tensor = inputs[2]
        variance_output_tensor = inputs[3]
        vae_loss_tensor = create_vae_loss_tensor(
            input_tensor, output_tensor, mean_output_tensor, variance_output_tensor
        )
        self.add_loss(vae_loss_tensor)  # Keras 2: add_loss(vae_loss_tensor, inputs=inputs)
        return input_tensor


def mean_variance_merge(args):
    mean_output_tensor, variance_output_tensor = args
    # 以mean_output_tensor的结构，整一个很小的ε张量
    epsilon_tensor = keras.random.normal(shape=(ops.shape(mean_output_tensor)[0], latent_dim), mean=0.0, stddev=1.0)
    return mean_output_tensor + ops.exp(variance_output_tensor) * epsilon_tensor


def fit(vae, x_train, x_test, epochs=10, callbacks=()):
    early_stopping = EarlyStopping(monitor="val_loss", patience=2)
    return vae.fit(
        x=x_train,
        y=None,
        shuffle=True,
        epochs=epochs,
        batch_size=batch_size,
        validation_data=(x_test, None),
        callbacks=[early_stopping, *callbacks],
    )


# ------------------------------------------------------------------ measuring (not in the blog post)
class EpochClock(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.start)


def measuring_models(encoder, decoder, vae):
    """(image -> [mean, log-variance 2v], z -> logits), sharing the trained weights, for the estimator."""
    mean_layer = encoder.layers[-1]
    variance_layer = next(
        layer
        for layer in vae.layers
        if isinstance(layer, Dense) and layer.units == latent_dim and layer is not mean_layer
    )
    x = Input(shape=input_shape)
    h = x
    for layer in encoder.layers[1:-1]:  # conv, conv, flatten, dense: the trained layers
        h = layer(h)
    log_var = keras.layers.Rescaling(2.0)(variance_layer(h))  # z = mean + exp(v) eps: std exp(v), log-variance 2v
    z = Input(shape=(latent_dim,))
    g = z
    for layer in decoder.layers[1:-1]:
        g = layer(g)
    logits_layer = Conv2D(1, 5, padding="same")  # the output convolution without its sigmoid
    logits = logits_layer(g)
    logits_layer.set_weights(decoder.layers[-1].get_weights())
    return Model(x, [mean_layer(h), log_var]), Model(z, logits)


def measure_test_elbo(encoder, decoder, vae, x_test, seed, samples=10):
    from vae_cli.model.estimate import Estimate, evaluate

    measuring_encoder, decoder_logits = measuring_models(encoder, decoder, vae)
    return evaluate(measuring_encoder, decoder_logits, x_test, Estimate(k=0, samples=samples, seed=seed))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", metavar="DIR", default=None, help="MNIST IDX folder (default: $VAE_DATA_DIR)")
    parser.add_argument("--epochs", type=int, default=10, metavar="N", help="(default: 10)")
    parser.add_argument("--seed", type=int, default=0, metavar="N", help="(default: 0)")
    args = parser.parse_args()
    keras.utils.set_random_seed(args.seed)

    x_train, x_test = get_data(args.data_dir)
    encoder, decoder, vae = create_model()
    clock = EpochClock()
    started = time.perf_counter()
    fit(vae, x_train, x_test, args.epochs, [clock])
    training_seconds = time.perf_counter() - started
    m = measure_test_elbo(encoder, decoder, vae, x_test, args.seed)
    print(
        json.dumps(
            {
                "training_seconds": training_seconds,
                "epochs": len(clock.seconds),
                "seconds_per_epoch": float(np.median(clock.seconds)),
                "epoch_seconds": clock.seconds,
                "negative_elbo": m.negative_elbo,
                "reconstruction": m.reconstruction,
                "kl": m.kl,
                "process_seconds": time.perf_counter() - START,
            }
        )
    )


if __name__ == "__main__":
    main()
