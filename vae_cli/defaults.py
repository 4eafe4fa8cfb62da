"""Defaults that the help text shows and the commands use; light enough for ``vae --help``."""

GRID = 15  # cells per side of the latent grid
GRID_RANGE = "ppf:0.05:0.95"  # prior quantiles: each cell covers equal prior mass
TSNE_LIMIT = 2000  # exact t-SNE is quadratic: about half a minute for 2,000 points
