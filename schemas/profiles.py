"""Size profiles: how many entries of each dimension a build selects, and class balance targets.

`paper` reproduces the published composition of RecRM-Bench exactly. A build whose logs cannot
supply the asked count fails with a clear message instead of padding.
"""

from __future__ import annotations

from pydantic import BaseModel, Field


class SizeProfile(BaseModel):
    name: str
    # Target entries per dimension over all domains; None = take every candidate.
    counts: dict[str, int | None]
    split_fractions: dict[str, float] = Field(
        default_factory=lambda: {"train": 0.8, "validation": 0.1, "test": 0.1}
    )
    # Share of positive (label 1) entries after synthesis, for the binary dimensions.
    positive_ratio: dict[str, float] = Field(
        default_factory=lambda: {"instruction_following": 0.5, "factual_consistency": 0.5}
    )
    # Bounds the label-balance expectation enforces (share of the positive class).
    balance_bounds: tuple[float, float] = (0.2, 0.8)


PROFILES: dict[str, SizeProfile] = {
    "small": SizeProfile(
        name="small",
        counts={
            "instruction_following": None,
            "factual_consistency": None,
            "query_item_relevance": None,
            "behavior_prediction": None,
            "item_ranking": None,
        },
    ),
    "paper": SizeProfile(
        name="paper",
        counts={
            "instruction_following": 8_422,
            "factual_consistency": 9_391,
            "query_item_relevance": 19_456,
            "behavior_prediction": 960_862,
            "item_ranking": 75_648,
        },
    ),
}


def get_profile(name: str) -> SizeProfile:
    try:
        return PROFILES[name]
    except KeyError:
        raise KeyError(f"unknown size profile {name!r}; known: {', '.join(PROFILES)}") from None
