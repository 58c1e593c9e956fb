"""Score every field polygon in parallel against a crop lookup table."""

from multiprocessing import Pool

import pandas as pd

LOOKUP = pd.read_csv("crop_lookup.csv")  # expect: UW102
RESULTS = []


def score(field_id):
    try:
        crop = LOOKUP.loc[LOOKUP.field == field_id, "crop"].iloc[0]
        RESULTS.append((field_id, crop))  # expect: UW103
        return crop
    except:  # expect: UW301
        return None


if __name__ == "__main__":
    fields = pd.read_csv("fields.csv")["field_id"].tolist()
    with Pool(4) as pool:
        crops = pool.map(score, fields)
    pd.DataFrame({"field": fields, "crop": crops}).to_csv("crops.csv")
