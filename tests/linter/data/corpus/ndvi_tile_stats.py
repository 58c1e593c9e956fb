# compute NDVI stats for every tile -- v3
import glob
import json
import os

import numpy as np
from PIL import Image

DATA = "/data/sentinel/tiles"  # expect: UW502
CFG = json.load(open(os.path.join(DATA, "config.json")))  # expect: UW102
WEIGHTS = np.load("/shared/lut/class_weights.npy")  # expect: UW102

rows = []
hists = []
for f in sorted(glob.glob(DATA + "/*.npy")):  # expect: UW102
    name = os.path.basename(f)[:-4]
    print("tile", name)  # expect: UW401
    try:
        arr = np.load(f).astype(np.float64) * CFG["scale"]
        cloud = np.array(Image.open(f[:-4] + "_cloud.png")) > 0
        red, nir = arr[CFG["red"]], arr[CFG["nir"]]
        ndvi = (nir - red) / (nir + red)
        valid = ndvi[~cloud]
        h, _ = np.histogram(valid, bins=CFG["bins"], range=(-1, 1))
        score = float((h * WEIGHTS).sum() / valid.size)
        rows.append((name, valid.mean(), valid.std(), cloud.mean(), valid.size, score))
        hists.append(h)
    except:  # expect: UW301
        print("  FAILED", name)  # expect: UW401
np.savez(  # expect: UW201
    "ndvi_results.npz",
    names=np.array([r[0] for r in rows]),
    stats=np.array([r[1:] for r in rows]),
    hists=np.stack(hists),
)
print("wrote", len(rows), "tiles")  # expect: UW401
