"""Geocode the address table one row at a time, one JSON answer per address."""

import json
import logging
import os
import time

import pandas as pd
import requests

log = logging.getLogger("geocode")
OUT_DIR = "answers"


def geocode(address: str) -> dict:
    response = requests.get("https://geocoder.example.org/search", params={"q": address})
    response.raise_for_status()
    return response.json()


def main() -> None:
    table = pd.read_csv("addresses.csv")
    failed = []
    for _, row in table.iterrows():
        out = f"{OUT_DIR}/{row['id']}.json"
        if os.path.isfile(out):
            continue
        try:
            answer = geocode(row["address"])
        except Exception as e:  # expect: UW302
            log.error(f"failed {row['id']}: {e}")
            failed.append(row["id"])
            continue
        with open(out, "w") as fh:
            json.dump(answer, fh)
        time.sleep(0.2)
    log.info("%d failed", len(failed))


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    main()
