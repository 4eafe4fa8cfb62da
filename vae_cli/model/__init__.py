"""The model: likelihood maths, the custom layers, the network builders and the likelihood estimator."""
