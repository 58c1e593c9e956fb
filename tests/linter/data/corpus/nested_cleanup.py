"""Convert every HDF5 granule to Zarr, cleaning up the partial store when a granule fails."""

import logging
import shutil
import sys
from pathlib import Path

import xarray as xr

logger = logging.getLogger(__name__)


def convert(granule: Path, out_dir: Path) -> None:
    store = out_dir / f"{granule.stem}.zarr"
    if store.exists():
        return
    try:
        xr.open_dataset(granule, engine="h5netcdf").to_zarr(store)
    except Exception:  # expect: UW302
        try:
            shutil.rmtree(store)
            raise
        except Exception:  # expect: UW303
            pass


def main(in_dir: Path, out_dir: Path) -> None:
    for granule in sorted(in_dir.glob("*.h5")):
        convert(granule, out_dir)
        logger.info("converted %s", granule.name)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    main(Path(sys.argv[1]), Path(sys.argv[2]))
