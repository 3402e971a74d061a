"""The dimension registry: every benchmark dimension declares itself once, here read by all.

A dimension is one `Dimension` declaration (its entry payload, label names, split policy,
template, card description, expectation overrides, evaluation metrics family and the module with
its Dagster steps). Every declaration is found one way: the Python entry point group
`recrm.dimensions` of the installed distributions (`[project.entry-points."recrm.dimensions"]
<name> = "<module>:<attribute>"`, the attribute a `Dimension` or a function returning one).

- The built-in dimensions are the project's own entry points (pyproject.toml), each naming its
  folder's `assets/dimensions/<name>/dimension.py:DECLARATION`; this module never names the
  `assets` package, so the layers hold (a lower layer does not reach up).
- Installed packages add theirs the same way. examples/recrm-repurchase is one, and
  docs/extending.md walks through it.

The release, the expectation suites, the card, the manifest, the evaluation, the Dagster
definitions and the tests read the registry (`schemas.entries.DIMENSIONS` and friends are views
of it), so a new dimension needs no edit anywhere else. A declaration module imports only
pyarrow and `schemas`: the registry is read while the schemas are, long before Dagster.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path

import pyarrow as pa

ENTRY_POINT_GROUP = "recrm.dimensions"
# The distribution whose entry points are the built-in dimensions (pyproject.toml's name).
PROJECT_DISTRIBUTION = "recrm-pipeline"

# How the evaluation scores a dimension (assets/scoring/metrics.py):
# binary: ACC, F1 of class 1, macro F1, AUC of a score for class 1;
# graded_relevance: the ESCI scale, binary ACC/F1 on grade >= 2, ACC, quadratic weighted kappa;
# engagement: ACC on the levels, AUC of a score for "engaged" (level >= 1);
# ranking: pairwise ACC, AUC, HR@k, NDCG@k over candidate lists (label column gold_ranking).
METRIC_FAMILIES = ("binary", "graded_relevance", "engagement", "ranking")
# One release-wide policy (assets/dimensions/common/splits.py): users and time held out.
SPLIT_POLICIES = ("user_and_time",)
# The value of a field a declaration must state (even as None): its absence is an error.
UNDECLARED = "<undeclared>"


class DimensionError(ValueError):
    """A declaration that cannot be used; the message names the dimension and where it came from."""


@dataclass(frozen=True)
class Dimension:
    name: str
    payload: tuple[pa.Field, ...]  # the entry table is schemas.entries.COMMON_FIELDS + these
    label_names: dict[int, str]  # what each label value means (ranking: candidate_labels)
    description: str  # one line for the dataset card's contents table
    metrics: str  # one of METRIC_FAMILIES
    template: str  # the prompt template's id (schemas/templates/ or `templates_dir`)
    short_name: str = ""  # column heads of evaluation tables (default: the name)
    label_column: str = "label"  # `gold_ranking` for a ranking
    # The entries carry their time in `context.ts` (and a history before it): the expectations
    # check the time side of the split policy on them, the bootstrap resamples users.
    timed: bool = False
    split_policy: str = "user_and_time"
    # Bounds on the mean of a binary label (the balance expectation); None: the size profile's.
    balance_bounds: tuple[float, float] | None = None
    # The module whose Dagster assets and checks build the dimension's entries
    # (`[<name>, "entries"]`); built-ins live in the `assets` package, found with it.
    assets_module: str | None = None
    # Templates shipped with a package: their folder (with its templates.lock.json) and the
    # version of each a build renders unless `template_versions` says otherwise.
    templates_dir: Path | None = None
    template_versions: dict[str, int] = field(default_factory=dict)
    # Contract tables a domain needs rows in to support the dimension (plugins; the built-ins'
    # needs are spelled out in assets/ingest/capabilities.py).
    requires_tables: tuple[str, ...] = ()
    # What a shortcut could read off an entry without its context: the payload column holding
    # the text the length baseline measures (a string, e.g. an agent response; an item struct;
    # a list of items for a ranking), or None: no text shortcut applies. A string column named
    # `response` also gets the validity gate's response shortcuts (marker rule, response n-gram
    # classifier, synthetic detector). Must be declared.
    shortcut_text: str | None = UNDECLARED
    # The LLM judge of its `judged` step: "module:attribute" of an `assets.llm.judges.Judge`, or
    # None: no judge applies and the step passes the entries through. Must be declared.
    llm_judge: str | None = UNDECLARED
    # Sort key of the registry (built-ins 10..50, in the paper's order; plugins after them).
    order: int = 100
    source: str = ""  # where the declaration came from (filled by the registry)
    distribution: str = ""  # the installed distribution that declares it (filled by the registry)

    @property
    def label_values(self) -> tuple[int, ...] | None:
        """The allowed label values (None for a ranking, whose label is a list)."""
        return tuple(sorted(self.label_names)) if self.label_column == "label" else None

    @property
    def is_binary(self) -> bool:
        return self.label_values == (0, 1)

    @property
    def response_shortcuts(self) -> bool:
        """The validity gate's response shortcuts apply (an agent response is what is labelled)."""
        return self.shortcut_text == "response"

    def check(self) -> Dimension:
        where = f"dimension {self.name!r} ({self.source or 'declared in code'})"
        if not self.name.isidentifier() or self.name != self.name.lower():
            raise DimensionError(f"{where}: a name is a lower-case identifier")
        if self.metrics not in METRIC_FAMILIES:
            raise DimensionError(
                f"{where}: metrics {self.metrics!r}, not one of {', '.join(METRIC_FAMILIES)}"
            )
        if self.split_policy not in SPLIT_POLICIES:
            raise DimensionError(
                f"{where}: split policy {self.split_policy!r}, not one of {', '.join(SPLIT_POLICIES)}"
            )
        if sorted(self.label_names) != list(range(len(self.label_names))):
            raise DimensionError(f"{where}: label_names must number the classes 0..n-1")
        names = {f.name for f in self.payload}
        if self.label_column not in names:
            raise DimensionError(f"{where}: its payload has no label column {self.label_column!r}")
        if (self.metrics == "ranking") != (self.label_column == "gold_ranking"):
            raise DimensionError(f"{where}: a ranking (and only a ranking) labels gold_ranking")
        if self.metrics == "binary" and not self.is_binary:
            raise DimensionError(f"{where}: binary metrics need labels 0 and 1")
        for declared in ("shortcut_text", "llm_judge"):
            if getattr(self, declared) == UNDECLARED:
                raise DimensionError(
                    f"{where}: declare {declared} (None when it does not apply: docs/extending.md)"
                )
        if self.shortcut_text is not None and self.shortcut_text not in names:
            raise DimensionError(
                f"{where}: shortcut_text {self.shortcut_text!r} is not a payload column"
            )
        if self.llm_judge is not None and ":" not in self.llm_judge:
            raise DimensionError(
                f"{where}: llm_judge is 'module:attribute', got {self.llm_judge!r}"
            )
        if self.balance_bounds is not None:
            low, high = self.balance_bounds
            if not 0 <= low < high <= 1:
                raise DimensionError(f"{where}: balance_bounds must satisfy 0 <= low < high <= 1")
        return self


def _declarations() -> list[Dimension]:
    found = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        where = f"entry point {ep.name} = {ep.value} of {ENTRY_POINT_GROUP}"
        try:
            declared = ep.load()
        except Exception as exc:  # a broken plugin names itself rather than a deep traceback
            raise DimensionError(f"{where}: cannot be loaded ({exc})") from exc
        if isinstance(declared, Callable) and not isinstance(declared, Dimension):
            declared = declared()
        if not isinstance(declared, Dimension):
            raise DimensionError(f"{where}: is not a schemas.dimensions.Dimension")
        distribution = ep.dist.name if getattr(ep, "dist", None) is not None else ""
        found.append(replace(_with_source(declared, where), distribution=distribution))
    if not any(d.distribution == PROJECT_DISTRIBUTION for d in found):
        raise DimensionError(
            f"no built-in dimension is registered: they are {PROJECT_DISTRIBUTION}'s "
            f"{ENTRY_POINT_GROUP} entry points, read from its installed metadata. Install the "
            "project (scripts/setup.sh, or pip install -e .), and again after pyproject.toml's "
            "entry points change"
        )
    return found


def _with_source(declared: Dimension, source: str) -> Dimension:
    return replace(declared, source=source).check()


_loading = False


@cache
def registry() -> dict[str, Dimension]:
    """name -> Dimension of every built-in and installed dimension, in `order`."""
    global _loading
    if _loading:
        raise DimensionError(
            "the dimension registry was read while it was being loaded: a declaration module "
            "(dimension.py) must import only pyarrow and schemas, not the modules that read it"
        )
    _loading = True
    try:
        declared = _declarations()
    finally:
        _loading = False
    by_name: dict[str, Dimension] = {}
    for dim in declared:
        if dim.name in by_name:
            raise DimensionError(
                f"dimension {dim.name!r} is declared twice: {by_name[dim.name].source} and "
                f"{dim.source}"
            )
        by_name[dim.name] = dim
    return dict(sorted(by_name.items(), key=lambda kv: (kv[1].order, kv[0])))


def dimension_names() -> tuple[str, ...]:
    return tuple(registry())


def get_dimension(name: str) -> Dimension:
    found = registry()
    if name not in found:
        raise KeyError(
            f"unknown dimension {name!r}; known: {', '.join(found)} (a dimension is declared by "
            f"an installed package's {ENTRY_POINT_GROUP} entry point, the built-ins' in "
            "pyproject.toml: docs/extending.md)"
        )
    return found[name]


def plugins() -> list[Dimension]:
    """The dimensions other packages declare (their Dagster steps are loaded from
    `assets_module`; the built-ins' are found in the `assets` package)."""
    return [d for d in registry().values() if d.distribution != PROJECT_DISTRIBUTION]


def template_dirs() -> list[Path]:
    return [Path(d.templates_dir) for d in registry().values() if d.templates_dir is not None]


def template_pins() -> dict[str, int]:
    return {k: v for d in registry().values() for k, v in d.template_versions.items()}
