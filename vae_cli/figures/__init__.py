"""Figures: latent point sets, matplotlib writers, and the figures of a run and of each figure command."""
