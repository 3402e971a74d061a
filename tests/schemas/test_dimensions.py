"""The dimension registry: `recrm.dimensions` entry points (the project's own for the built-in
folders, and installed packages'), one declaration per dimension read by the entry schemas, the
card, the expectation suites and the evaluation."""

from __future__ import annotations

import sys
import textwrap
from importlib.metadata import EntryPoint
from pathlib import Path

import pyarrow as pa
import pytest

import schemas.dimensions as dimensions
from schemas.dimensions import Dimension, DimensionError, get_dimension, registry
from schemas.entries import DIMENSIONS, LABEL_NAMES, LABEL_VALUES, entry_schema
from schemas.profiles import get_profile

BUILT_IN = (
    "instruction_following",
    "factual_consistency",
    "query_item_relevance",
    "behavior_prediction",
    "item_ranking",
)


def test_built_in_folders_declare_the_five_paper_dimensions_in_order():
    assert DIMENSIONS[:5] == BUILT_IN
    for name in BUILT_IN:
        dim = get_dimension(name)
        # found through the project's own entry points, like a package's (no dynamic import of
        # the assets package from schemas)
        assert dim.source == (
            f"entry point {name} = assets.dimensions.{name}.dimension:DECLARATION of "
            f"{dimensions.ENTRY_POINT_GROUP}"
        )
        assert dim.distribution == dimensions.PROJECT_DISTRIBUTION
    assert dimensions.plugins() == []


def test_the_registry_names_no_asset_module():
    source = Path(dimensions.__file__).read_text(encoding="utf-8")
    assert "import_module" not in source and '"assets' not in source


def test_without_the_project_installed_the_registry_says_so(monkeypatch):
    monkeypatch.setattr(dimensions, "entry_points", lambda group: [])
    registry.cache_clear()
    try:
        with pytest.raises(DimensionError, match="no built-in dimension is registered.*setup.sh"):
            registry()
    finally:
        registry.cache_clear()


@pytest.mark.parametrize("name", DIMENSIONS)
def test_every_registered_declaration_is_complete(name):
    dim = get_dimension(name)
    assert dim.check() is dim and dim.description
    assert entry_schema(name).names[-len(dim.payload) :] == [f.name for f in dim.payload]
    assert LABEL_NAMES[name] == dim.label_names
    assert LABEL_VALUES.get(name) == dim.label_values
    from core.templates import load_template

    assert load_template(dim.template).id == dim.template


def test_unknown_dimension_says_where_dimensions_are_declared():
    with pytest.raises(KeyError, match="recrm.dimensions entry point"):
        get_dimension("repurchase")


PLUGIN = """
import pyarrow as pa
from schemas.dimensions import Dimension

DIM = Dimension(
    name="toy_dimension",
    payload=(pa.field("query", pa.string()), pa.field("label", pa.int8())),
    label_names={0: "no", 1: "yes"},
    description="a toy dimension declared by a package",
    metrics="binary",
    template="toy_dimension",
    balance_bounds=(0.05, 0.95),
    shortcut_text="query",
    llm_judge=None,
)

def make():
    return DIM
"""


@pytest.fixture
def toy_plugin(tmp_path, monkeypatch):
    """A package module declaring a dimension, found through a `recrm.dimensions` entry point."""
    (tmp_path / "toy_plugin.py").write_text(textwrap.dedent(PLUGIN))
    monkeypatch.syspath_prepend(str(tmp_path))
    found = [EntryPoint("toy_dimension", "toy_plugin:make", dimensions.ENTRY_POINT_GROUP)]
    installed = list(dimensions.entry_points(group=dimensions.ENTRY_POINT_GROUP))
    monkeypatch.setattr(
        dimensions,
        "entry_points",
        lambda group: installed + found if group == dimensions.ENTRY_POINT_GROUP else [],
    )
    registry.cache_clear()
    yield found
    registry.cache_clear()
    sys.modules.pop("toy_plugin", None)


def test_an_entry_point_adds_a_dimension_after_the_built_ins(toy_plugin):
    names = tuple(registry())
    assert names == (*BUILT_IN, "toy_dimension")
    toy = get_dimension("toy_dimension")
    assert toy.source.startswith("entry point toy_dimension = toy_plugin:make")
    assert [d.name for d in dimensions.plugins()] == ["toy_dimension"]
    assert entry_schema("toy_dimension").field("label").type == pa.int8()


def test_a_declared_balance_bound_overrides_the_profile(toy_plugin):
    from schemas.expectations.benchmark import benchmark_suite

    def mean_bounds(name):
        (e,) = [
            e
            for e in benchmark_suite(name, get_profile("small")).expectations
            if e.expectation_type == "expect_column_mean_to_be_between"
        ]
        return (e.min_value, e.max_value)

    assert mean_bounds("toy_dimension") == (0.05, 0.95)
    assert mean_bounds("instruction_following") == get_profile("small").balance_bounds


def test_the_card_describes_a_package_dimension_from_its_declaration(toy_plugin):
    from assets.release.card import descriptions

    assert descriptions()["toy_dimension"] == "a toy dimension declared by a package"
    assert set(descriptions()) == set(registry())


def test_a_dimension_declared_twice_is_an_error_naming_both(toy_plugin, monkeypatch):
    toy_plugin.append(EntryPoint("again", "toy_plugin:DIM", dimensions.ENTRY_POINT_GROUP))
    registry.cache_clear()
    with pytest.raises(DimensionError, match="'toy_dimension' is declared twice.*again"):
        registry()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"metrics": "regression"}, "metrics 'regression', not one of"),
        ({"split_policy": "random"}, "split policy 'random'"),
        ({"label_names": {1: "a", 2: "b"}}, "number the classes 0..n-1"),
        ({"label_column": "gold_ranking"}, "no label column 'gold_ranking'"),
        ({"balance_bounds": (0.9, 0.1)}, "balance_bounds"),
        ({"name": "Bad-Name"}, "lower-case identifier"),
        ({"label_names": {0: "a", 1: "b", 2: "c"}}, "binary metrics need labels 0 and 1"),
        # The shortcuts and the judge are stated, even as None: silence is not "not applicable".
        ({"shortcut_text": dimensions.UNDECLARED}, "declare shortcut_text"),
        ({"llm_judge": dimensions.UNDECLARED}, "declare llm_judge"),
        ({"shortcut_text": "response"}, "shortcut_text 'response' is not a payload column"),
        ({"llm_judge": "pkg.judge"}, "llm_judge is 'module:attribute'"),
    ],
)
def test_a_bad_declaration_is_refused_with_its_source(change, message):
    from dataclasses import replace

    base = Dimension(
        name="toy",
        payload=(pa.field("label", pa.int8()),),
        label_names={0: "no", 1: "yes"},
        description="d",
        metrics="binary",
        template="toy",
        shortcut_text=None,
        llm_judge=None,
        source="entry point toy = pkg:DIM",
    )
    with pytest.raises(DimensionError, match=message) as info:
        replace(base, **change).check()
    assert "pkg:DIM" in str(info.value)


def test_an_entry_point_that_fails_to_load_names_itself(monkeypatch):
    broken = [EntryPoint("broken", "no_such_module_xyz:DIM", dimensions.ENTRY_POINT_GROUP)]
    monkeypatch.setattr(dimensions, "entry_points", lambda group: broken)
    registry.cache_clear()
    try:
        with pytest.raises(DimensionError, match="broken = no_such_module_xyz:DIM.*cannot be"):
            registry()
    finally:
        registry.cache_clear()
