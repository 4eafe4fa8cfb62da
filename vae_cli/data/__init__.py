"""Datasets: the shared types and the data sources (MNIST and Fashion-MNIST, the user's own images)."""
