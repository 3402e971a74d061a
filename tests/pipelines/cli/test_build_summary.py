"""The build's entries table: one row per dimension, one column per domain, then the selection."""

from pipelines.cli.build import print_entries_summary
from pipelines.cli.common import console
from pipelines.runner import Materialization, RunReport


def test_entries_table_pivots_domains_and_shows_the_selection():
    report = RunReport(
        materializations=[
            Materialization("instruction_following/entries", "food", {"rows": 999}),
            Materialization("instruction_following/judged", "food", {"rows": 1190}),
            Materialization("instruction_following/judged", "hotel", {"rows": 244}),
            Materialization("instruction_following/benchmark", None, {"rows": 1434}),
            Materialization("item_ranking/judged", "hotel", {"rows": 3}),
        ]
    )
    with console.capture() as captured:
        print_entries_summary(report)
    lines = captured.get().splitlines()
    header = next(line for line in lines if "dimension" in line)
    assert header.index("food") < header.index("hotel") < header.index("selected")
    (if_row,) = [line for line in lines if "instruction_following" in line]
    assert [c.strip() for c in if_row.split("│")[2:5]] == ["1,190", "244", "1,434"]
    (ir_row,) = [line for line in lines if "item_ranking" in line]
    assert [c.strip() for c in ir_row.split("│")[2:5]] == ["", "3", ""]


def test_ranking_labels_show_candidate_list_lengths_not_a_label_histogram():
    from pipelines.cli.build import _labels_text

    assert _labels_text("item_ranking", {"5": 1, "7": 3}) == "candidates 5-7, mean 6.5"
    assert _labels_text("behavior_prediction", {"2": 4, "0": 9, "1": 3}) == "0:9, 1:3, 2:4"
