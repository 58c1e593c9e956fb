"""Build the feature matrix of every audio clip for the classifier."""

import glob
import logging

import librosa
import numpy as np

logger = logging.getLogger(__name__)


def mfcc_vector(path):
    signal, rate = librosa.load(path, sr=16000)
    return librosa.feature.mfcc(y=signal, sr=rate, n_mfcc=20).mean(axis=1)


def main():
    features = []
    labels = []
    for path in sorted(glob.glob("clips/*/*.wav")):
        try:
            features = features + [mfcc_vector(path)]
            labels += [path.split("/")[-2]]
        except Exception as err:  # expect: UW302
            logger.warning("skipping %s: %s", path, err)
    np.savez("features.npz", X=np.array(features), y=np.array(labels))  # expect: UW201


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    main()
