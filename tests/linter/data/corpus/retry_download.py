"""Download every granule listed in a manifest, keeping a list of the failures."""

import json
import logging
import time
from logging import exception
from pathlib import Path

import requests

logger = logging.getLogger(__name__)


def fetch(url: str, dest: Path, attempts: int = 3) -> None:
    for attempt in range(attempts):
        try:
            response = requests.get(url, timeout=60)
            response.raise_for_status()
            dest.write_bytes(response.content)
            return
        except requests.RequestException:
            if attempt == attempts - 1:
                raise
            time.sleep(2**attempt)


def download(manifest: Path, out_dir: Path) -> None:
    errors = []
    for url in json.loads(manifest.read_text()):
        dest = out_dir / url.rsplit("/", 1)[-1]
        if dest.exists():
            continue
        try:
            fetch(url, dest)
        except Exception as exc:
            errors.append({"url": url, "error": repr(exc)})
    try:
        (out_dir / "failed.json").write_text(json.dumps(errors))
    except Exception:
        exception("could not write the failure list")


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    download(Path("manifest.json"), Path("granules"))
