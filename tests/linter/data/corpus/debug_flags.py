"""Fit a growth curve per plot; optional debugging and plotting switches."""

import argparse
import os
import pdb

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from scipy.optimize import curve_fit

SHOW_PLOTS = False


def logistic(t, k, r, t0):
    return k / (1 + np.exp(-r * (t - t0)))


def fit_plot(df, plot_id, debug=False):
    try:
        params, _ = curve_fit(logistic, df["day"], df["height"], p0=[100, 0.1, 50])
    except RuntimeError:
        if debug:
            pdb.set_trace()
        raise
    if SHOW_PLOTS or os.environ.get("GROWTH_PLOTS"):
        plt.plot(df["day"], df["height"], ".")
        plt.show()
    return {"plot": plot_id, "k": params[0], "r": params[1], "t0": params[2]}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--debug", action="store_true")
    args = parser.parse_args()
    heights = pd.read_csv("heights.csv")
    fits = [fit_plot(g, pid, args.debug) for pid, g in heights.groupby("plot")]
    pd.DataFrame(fits).to_csv("fits.csv", index=False)


if __name__ == "__main__":
    main()
