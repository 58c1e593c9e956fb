"""Compute NDVI for every Sentinel-2 tile in a folder, one GeoTIFF per tile."""

import argparse
from pathlib import Path

import numpy as np
import rasterio


def ndvi(red, nir):
    red = red.astype("float32")
    nir = nir.astype("float32")
    return (nir - red) / np.maximum(nir + red, 1e-6)


def run(in_dir: Path, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for tile in sorted(in_dir.glob("*.tif")):
        print("processing", tile.name)  # expect: UW401
        with rasterio.open(tile) as src:
            red = src.read(4)
            nir = src.read(8)
            profile = src.profile
        profile.update(count=1, dtype="float32")
        out = out_dir / f"{tile.stem}_ndvi.tif"
        with rasterio.open(out, "w", **profile) as dst:  # expect: UW202
            dst.write(ndvi(red, nir), 1)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("in_dir", type=Path)
    parser.add_argument("out_dir", type=Path)
    args = parser.parse_args()
    run(args.in_dir, args.out_dir)
    print("done")
