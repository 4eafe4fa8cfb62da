"""Names shared by several layers of the package: dataset kinds and the models' layer names.

A saved model is found again by these names, so they are defined once here.
"""

MNIST_DATASETS = ("mnist", "fashion_mnist")  # read from IDX files or keras.datasets
USER_DATASETS = ("image_folder", "npz")  # the user's own images; runs are named after the folder or file
DATASET_KINDS = MNIST_DATASETS + USER_DATASETS

ENCODER = "encoder"
DECODER = "decoder"
Z_MEAN, Z_LOG_VAR, Z = "z_mean", "z_log_var", "z"
X_LOGITS = "x_logits"  # the decoder's last layer before the sigmoid
VAE_LOSS = "vae_loss"  # the loss layer of the trainable model
EXPORT_FORMATS = ("keras", "savedmodel", "tflite", "onnx")  # what `export` writes a run's models as
LABEL = "label"  # a conditional model's one-hot class input
