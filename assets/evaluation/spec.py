"""What one evaluation is: a named scorer on a release, a split, dimensions, a sample and a seed.

The spec is the whole configuration of an evaluation, without secrets (the judge's API key comes
from the environment when it runs). Its hash, with the release manifest's sha256, is the data
version of the evaluation's Dagster asset: the result is stale only when one of them changes.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from schemas.entries import DIMENSIONS, SPLITS

# The judge settings that change its answers (the rest, such as concurrency, only change how
# fast they come): the configuration hash covers these.
JUDGE_ANSWER_FIELDS = ("base_url", "model", "temperature", "seed", "max_tokens")

# A name is a folder under results/<version>/ and a Dagster partition key: one path component.
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def check_name(name: str) -> str:
    if not NAME.match(name or "") or ".." in name:
        raise ValueError(
            f"invalid evaluation name {name!r}: 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return name


class ScorerSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["judge", "predictions", "baseline"]
    baseline: str | None = None
    predictions: str | None = Field(None, description="absolute path of the predictions file")
    predictions_sha256: str | None = None
    judge: dict | None = Field(None, description="the judge's LLM configuration, key excluded")
    logprobs: bool | None = Field(
        None, description="judge: ask for the label tokens' log-probabilities"
    )
    grammar: bool | None = Field(
        None, description="judge: constrain answers with a GBNF grammar (llama.cpp servers)"
    )

    @model_validator(mode="after")
    def _one_kind(self) -> ScorerSpec:
        needs = {"judge": self.judge, "predictions": self.predictions, "baseline": self.baseline}
        if needs[self.kind] is None:
            raise ValueError(f"a {self.kind} scorer needs its {self.kind} setting")
        return self

    def describe(self) -> str:
        if self.kind == "baseline":
            return f"baseline {self.baseline}"
        if self.kind == "predictions":
            return f"predictions {self.predictions}"
        return f"judge {self.judge.get('model')} at {self.judge.get('base_url')}"


class EvalSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    release: str = Field(description="absolute path of the release folder")
    scorer: ScorerSpec
    dimensions: tuple[str, ...] | None = Field(
        None, description="None: every dimension the scorer covers"
    )
    split: Literal[SPLITS] = "test"
    limit: int | None = Field(None, gt=0, description="entries per dimension (a seeded sample)")
    seed: int = 0
    resamples: int = Field(1000, ge=0, description="bootstrap resamples (0: no intervals)")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return check_name(value)

    @field_validator("dimensions")
    @classmethod
    def _dimensions(cls, value):
        if value is None:
            return None
        unknown = [d for d in value if d not in DIMENSIONS]
        if unknown:
            raise ValueError(f"unknown dimension(s) {unknown}; known: {', '.join(DIMENSIONS)}")
        return tuple(d for d in DIMENSIONS if d in value)

    def config_hash(self) -> str:
        """sha256 of the configuration (the name excluded: renaming is not a new evaluation)."""
        payload = self.model_dump(mode="json", exclude={"name"})
        if self.scorer.judge is not None:
            judge = self.scorer.judge
            payload["scorer"]["judge"] = {k: judge.get(k) for k in JUDGE_ANSWER_FIELDS}
        text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def data_version(spec: EvalSpec, manifest_sha256: str) -> str:
    """The data version of an evaluation's result: its configuration and its release."""
    text = f"{spec.config_hash()}:{manifest_sha256}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]
