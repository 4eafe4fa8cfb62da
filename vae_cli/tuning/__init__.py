"""Hyperparameter search on Optuna: the space file, the study and its storage, trials as run folders, reports."""
