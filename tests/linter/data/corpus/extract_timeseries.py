"""Extract the mean temperature series of every station from the NetCDF archive."""

import pickle
import sys

import xarray as xr


def extract(paths):
    series = {}
    for path in paths:
        try:
            ds = xr.open_dataset(path)
        except:  # expect: UW301
            pass
        name = ds.attrs["station"]
        series[name] = ds["t2m"].mean(dim=["lat", "lon"]).values
        ds.close()
    with open("series.pkl", "wb") as fh:
        pickle.dump(series, fh)  # expect: UW201


if __name__ == "__main__":
    extract(sys.argv[1:])
