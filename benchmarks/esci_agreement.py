"""Agreement of the relevance labelers with human ESCI judgements (a real public sample), beside
the majority class.

Usage: .venv/bin/python benchmarks/esci_agreement.py [path/to/esci_dev.csv]
Default path: <repo>/../shared/data/public/esci_dev/esci_dev.csv (labels E/S/C/I -> 3/2/1/0).
"""

from __future__ import annotations

import os as _os

# Synthetic logs: building them with the public development hash key is fine (issue 17).
_os.environ.setdefault("RECRM_ALLOW_DEV_KEY", "1")

import sys
from pathlib import Path

from assets.dimensions.query_item_relevance.esci import (
    default_esci_path,
    esci_comparison,
    load_esci,
)
from assets.dimensions.query_item_relevance.lexical import lexical_labels


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else default_esci_path(Path(__file__).resolve().parent.parent)
    if not path.is_file():
        print(f"ESCI sample not found at {path}", file=sys.stderr)
        return 2
    results = esci_comparison(path)
    rows = next(iter(results.values()))["rows"]
    print(f"ESCI sample: {path} ({rows} rows, human labels)")
    print(f"{'labeler':18s} {'exact':>7s} {'binary':>7s} {'decided':>8s}")
    for name, r in results.items():
        decided = f"{r['decided']:.3f}" if "decided" in r else "-"
        print(f"{name:18s} {r['exact_agreement']:7.3f} {r['binary_agreement']:7.3f} {decided:>8s}")
    labelled = lexical_labels(load_esci(path))
    confusion = labelled.group_by("gold", "label").len().sort("gold", "label")
    print("lexical confusion (gold, label, count):")
    for gold, label, n in confusion.iter_rows():
        print(f"  {gold} {label} {n}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
