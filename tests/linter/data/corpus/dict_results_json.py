import json
import sys

import pandas as pd

counter = 0


def summarise(path):
    global counter  # expect: UW103
    counter += 1
    df = pd.read_csv(path)
    return {"rows": len(df), "mean_yield": float(df["yield"].mean())}


def main(files):
    results = {}
    for i in range(len(files)):
        results[files[i]] = summarise(files[i])
    with open("yields.json", "w") as fh:
        json.dump(results, fh)  # expect: UW201


if __name__ == "__main__":
    main(sys.argv[1:])
