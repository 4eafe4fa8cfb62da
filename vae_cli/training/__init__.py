"""Training: building and restoring a run, the input pipeline, the epoch loop, checkpoints."""
