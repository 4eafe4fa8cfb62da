"""Datasets: the shared types, MNIST and Fashion-MNIST, the user's own images, and the dispatcher."""
