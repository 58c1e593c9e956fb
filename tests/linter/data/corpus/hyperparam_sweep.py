"""Grid search over a few learning rates and depths; one CSV with a row per configuration."""

import itertools

import pandas as pd
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.model_selection import cross_val_score

LEARNING_RATES = [0.01, 0.05, 0.1]
DEPTHS = [2, 3, 5]


def evaluate(X, y, lr, depth):
    model = GradientBoostingRegressor(learning_rate=lr, max_depth=depth)
    return cross_val_score(model, X, y, cv=5).mean()


def sweep(X, y):
    rows = []
    for lr, depth in itertools.product(LEARNING_RATES, DEPTHS):
        score = evaluate(X, y, lr, depth)
        print(f"lr={lr} depth={depth}: {score:.3f}")  # expect: UW401
        rows.append({"lr": lr, "depth": depth, "score": score})
    pd.DataFrame(rows).to_csv("sweep.csv", index=False)


if __name__ == "__main__":
    data = pd.read_parquet("features.parquet")
    sweep(data.drop(columns="target"), data["target"])
