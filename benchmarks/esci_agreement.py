"""Agreement of the heuristic query-item relevance labeler with human ESCI judgements.

Usage: .venv/bin/python benchmarks/esci_agreement.py [path/to/esci_dev.csv]
Default path: <repo>/../shared/data/public/esci_dev/esci_dev.csv (labels E/S/C/I -> 3/2/1/0).
"""

from __future__ import annotations

import sys
from pathlib import Path

from assets.dimensions.query_item_relevance.esci import (
    default_esci_path,
    esci_agreement,
    load_esci,
)
from assets.dimensions.query_item_relevance.labeler import heuristic_labels


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else default_esci_path(Path(__file__).resolve().parent.parent)
    if not path.is_file():
        print(f"ESCI sample not found at {path}", file=sys.stderr)
        return 2
    result = esci_agreement(path)
    labelled = heuristic_labels(load_esci(path))
    confusion = labelled.group_by("gold", "label").len().sort("gold", "label")
    print(f"ESCI sample: {path} ({result['rows']} rows)")
    print(f"exact grade agreement:   {result['exact_agreement']:.3f}")
    print(f"binary (>= 2) agreement: {result['binary_agreement']:.3f}")
    print("confusion (gold, heuristic, count):")
    for gold, label, n in confusion.iter_rows():
        print(f"  {gold} {label} {n}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
