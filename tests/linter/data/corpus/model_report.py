"""Compare the fitted models on the held-out year and write the comparison table."""

import logging

import joblib
import pandas as pd
from sklearn.metrics import mean_absolute_error

logger = logging.getLogger(__name__)


def compare(models: dict[str, str], test_path: str) -> pd.DataFrame:
    test = pd.read_parquet(test_path)
    rows = []
    for name, path in models.items():
        model = joblib.load(path)
        pred = model.predict(test.drop(columns="y"))
        rows.append({"model": name, "mae": mean_absolute_error(test["y"], pred)})
    return pd.DataFrame(rows)


def main() -> None:
    models = {"ridge": "models/ridge.joblib", "forest": "models/forest.joblib"}
    report = compare(models, "data/test_2023.parquet")
    report.to_csv("model_comparison.csv", index=False)
    logger.info("best: %s", report.sort_values("mae").iloc[0]["model"])


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    main()
