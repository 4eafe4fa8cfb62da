"""Run folders: atomic files, creating and finding runs, model files, and reading a finished run."""
