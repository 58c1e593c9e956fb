"""Forecast the next 30 days for every store and plot the total."""

import glob

import matplotlib.pyplot as plt
import pandas as pd
from statsmodels.tsa.holtwinters import ExponentialSmoothing

OUTPUT = "forecasts/all_stores.parquet"


def forecast(path):
    sales = pd.read_parquet(path)["sales"].asfreq("D").fillna(0)
    model = ExponentialSmoothing(sales, trend="add", seasonal="add", seasonal_periods=7).fit()
    return model.forecast(30).rename(path)


def main():
    forecasts = []
    for path in sorted(glob.glob("stores/*.parquet")):
        forecasts.extend([forecast(path)])
    combined = pd.concat(forecasts, axis=1)
    combined.to_parquet(OUTPUT)  # expect: UW201
    combined.sum(axis=1).plot()
    plt.show()  # expect: UW402


def report(frame):
    print(frame.describe())  # expect: UW401


if __name__ == "__main__":
    main()
