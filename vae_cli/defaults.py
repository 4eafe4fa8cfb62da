"""Defaults that the help text shows and the commands use; light enough for ``vae --help``."""

GRID = 15  # cells per side of the latent grid
GRID_RANGE = ("ppf", 0.05, 0.95)  # prior quantiles: each cell covers equal prior mass
SEED = 0  # picks test images and random draws in every figure command
RECONSTRUCT_COUNT = 10
CLASS_COLUMNS = 10  # z values (styles) per row of a conditional run's class figure
INTERPOLATE_STEPS = 10
TRAVERSE_STEPS = 11
TRAVERSE_SPAN = 3.0
TRAVERSE_MAX_DIMS = 10  # rows of a traversal when the latent space is larger
EVALUATE_K = 1000  # with EVALUATE_LIMIT: minutes on a conv run; k = 5000 on all images for papers
EVALUATE_LIMIT = 2000  # test images evaluated unless asked for more
EVALUATE_SAMPLES = 10
OUTPUT_DIR = "outputs"
