"""Segment every microscopy image and save the masks."""

import logging
from pathlib import Path

import numpy as np
from skimage import filters, io

logger = logging.getLogger(__name__)


def save_mask(mask, out_dir, name):
    np.save(out_dir / f"{name}_mask.npy", mask)


def segment(path):
    image = io.imread(path)
    return image > filters.threshold_otsu(image)


def run(in_dir: Path, out_dir: Path) -> None:
    for path in sorted(in_dir.glob("*.tif")):
        source = in_dir / f"{path.stem}.tif"
        if not source.exists():
            continue
        mask = segment(path)
        save_mask(mask, out_dir, path.stem)  # expect: UW202
        logger.info("segmented %s", path.name)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    run(Path("images"), Path("masks"))
