"""The caps that keep the work for every input bounded, each checked before the work or memory it bounds.

Each cap is defined once here; docs/faults/limits.md lists them with the way
around each one. Anything a file declares (a header's shape, a zip member's size) is
checked against them, and against the file itself, before anything is allocated.
"""

# ------------------------------------------------------------------ configs
CONFIG_MAX_BYTES = 1_000_000  # a config file, a --set value or a run's config.yaml; the shipped ones are ~2 KB
CONFIG_MAX_DEPTH = 32  # nesting levels of YAML; a config needs 3 (section, key, list)
CONFIG_MAX_NODES = 10_000  # YAML values once every alias is expanded: stops "billion laughs"
SHOWN_CHARS = 60  # user input quoted in an error message is cut to this many characters
MAX_TEXT = 4096  # characters of a config string (a path, a name)
MAX_LIST = 64  # entries of a config list (layers, devices, image size)

# ------------------------------------------------------------------ models
MAX_LATENT_DIM = 4096
MAX_LAYER_SIZE = 65_536  # units of a Dense layer, filters of a convolution
MAX_KERNEL_SIZE = 63
MAX_STRIDE = 512  # stride, pool size, upsampling factor of a layer list's entry: TensorFlow segfaults on 10^6
MAX_FEATURE_VALUES = 2**23  # one image's feature map after a layer: conv_deep's first on 512x512 images
MAX_PARAMETERS = 200_000_000  # weights of encoder + decoder, counted before anything is built (800 MB)
MAX_EPOCHS = 1_000_000
MAX_BETA = 1e6  # train.beta: a weight past it overflows the loss; published betas are below 200
MAX_HISTORY_BYTES = 64 * 2**20  # a run's history.csv: about 600,000 epochs of rows
MAX_BATCH_SIZE = 65_536
MAX_SEED = 2**32 - 1  # what NumPy and TensorFlow seeds take
MAX_DEVICES = 64  # train.devices: indices 0 .. 63 of a kind; /cpu:N splits the CPU into N + 1 logical devices

# ------------------------------------------------------------------ data
MAX_IMAGE_PIXELS = 512 * 512  # height x width the model sees; data.image_size resizes larger images
MAX_FILE_PIXELS = 40_000_000  # an image file's own height x width, read from its header: decompression bombs
MAX_CLASSES = 10_000  # labels are class indices 0 .. MAX_CLASSES - 1; sub-folders of an image folder
MAX_NPZ_BYTES = 4 * 2**30  # uncompressed arrays of an .npz; larger datasets stream from an image folder
MAX_IDX_BYTES = 2**30  # uncompressed size of one IDX file (full MNIST: 47 MB)
MAX_RENDERED_IMAGES = 250_000  # training images of a rendered dataset (sprites: 1 GB at 64x64); data.limit picks

# ------------------------------------------------------------------ figures
MAX_GRID = 100  # sample --grid: cells per side
MAX_RANDOM = 10_000  # sample --random
MAX_RECONSTRUCT = 100  # reconstruct -n
MAX_INTERPOLATE_STEPS = 100
MAX_TRAVERSE_STEPS = 50  # per row, up to 10 rows
MAX_FIGURE_PIXELS = 64 * 2**20  # decoded pixel values (images x height x width x channels) in one figure
MAX_LATENT_VALUE = 1000.0  # |z| of --range linear:MIN:MAX and traverse --span; the prior is N(0, 1)

# ------------------------------------------------------------------ evaluation
MAX_K = 100_000  # evaluate --k; Burda et al. use 5,000
MAX_SAMPLES = 10_000  # evaluate --samples
EVALUATE_CHUNK_VALUES = 8192 * 28 * 28  # pixel values decoded per call, whatever k and the image size
MAX_TRAIN_SAMPLES = 5000  # train.samples: k draws of z per image in each training step
MAX_TC_PAIR_VALUES = 2**26  # btcvae: batch x batch x latent_dim densities per step, 256 MB in float32

# ------------------------------------------------------------------ tuning
MAX_WORKERS = 64  # vae tune --workers: each is a TensorFlow process; about one per 2 cores is useful
