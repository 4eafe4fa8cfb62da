"""vae: train Variational Autoencoders with Keras 3 and look at what they learned."""

__version__ = "0.2.0"
