"""A real colour dataset where none can be downloaded: patches of scikit-image's sample photos.

scikit-image ships a few colour photographs inside its wheel. This cuts each into
square patches (random positions, seeded) and writes an image folder with one
sub-folder per photo, the class being the photo the patch came from:

    pip download scikit-image --no-deps -d /tmp/sk && unzip -q /tmp/sk/*.whl 'skimage/data/*' -d /tmp/sk
    python tests/benchmarks/skimage_patches.py /tmp/sk/skimage/data data/skimage_patches
    vae train --set data.dataset=image_folder --set data.path=data/skimage_patches ...

scikit-image itself is not needed (only its image files), so it is no dependency of vae.
"""

import argparse
from pathlib import Path

import numpy as np
from PIL import Image

PHOTOS = {
    "astronaut": "astronaut.png",
    "cat": "chelsea.png",
    "coffee": "coffee.png",
    "hubble": "hubble_deep_field.jpg",
    "ihc": "ihc.png",
    "motorcycle": "motorcycle_left.png",
    "retina": "retina.jpg",
    "rocket": "rocket.jpg",
}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path, help="scikit-image's skimage/data folder")
    parser.add_argument("dest", type=Path, help="image folder to create")
    parser.add_argument("--size", type=int, default=32, help="patch side in pixels (default: 32)")
    parser.add_argument("--per-photo", type=int, default=800, help="patches per photo (default: 800)")
    parser.add_argument("--scale", type=float, default=0.5, help="shrink photos by this first (default: 0.5)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    for name, file in PHOTOS.items():
        photo = Image.open(args.source / file).convert("RGB")
        # Shrinking first makes a patch hold a recognisable piece of the scene, not texture alone.
        photo = photo.resize((round(photo.width * args.scale), round(photo.height * args.scale)), Image.LANCZOS)
        pixels = np.asarray(photo)
        out = args.dest / name
        out.mkdir(parents=True, exist_ok=True)
        rows = rng.integers(0, pixels.shape[0] - args.size + 1, args.per_photo)
        cols = rng.integers(0, pixels.shape[1] - args.size + 1, args.per_photo)
        for i, (r, c) in enumerate(zip(rows, cols, strict=True)):
            Image.fromarray(pixels[r : r + args.size, c : c + args.size]).save(out / f"{i:04d}.png")
        print(f"{name}: {args.per_photo} patches of {args.size}x{args.size} from {file} {photo.size}")


if __name__ == "__main__":
    main()
