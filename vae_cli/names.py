"""Names shared by several layers of the package: the models' layer names and the export formats.

A saved model is found again by these names, so they are defined once here.
"""

ENCODER = "encoder"
DECODER = "decoder"
Z_MEAN, Z_LOG_VAR, Z = "z_mean", "z_log_var", "z"
X_LOGITS = "x_logits"  # the decoder's last layer before the sigmoid
VAE_LOSS = "vae_loss"  # the loss layer of the trainable model
TC_LOSS = "tc_loss"  # a btcvae's metric: the estimated total correlation of q(z), nats per image
EXPORT_FORMATS = ("keras", "savedmodel", "tflite", "onnx")  # what `export` writes a run's models as
LABEL = "label"  # a conditional model's one-hot class input
