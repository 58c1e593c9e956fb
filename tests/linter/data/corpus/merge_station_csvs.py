# Merge the daily CSV of every weather station into one table.
import glob
import os

import pandas as pd

DATA = "data/stations"

acc = pd.DataFrame()
for path in sorted(glob.glob(os.path.join(DATA, "*.csv"))):  # expect: UW102
    station = os.path.basename(path)[:-4]
    df = pd.read_csv(path, parse_dates=["date"])
    df["station"] = station
    df = df[df["quality"] > 0]
    acc = pd.concat([acc, df], ignore_index=True)
    print(station, len(df))  # expect: UW401

acc = acc.sort_values(["station", "date"])
acc.to_csv("all_stations.csv", index=False)  # expect: UW201
print("wrote", len(acc), "rows")  # expect: UW401
