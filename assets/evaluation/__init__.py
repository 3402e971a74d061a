"""Evaluation: score reward models, LLM judges and baselines on a release (`recrm eval`).

metrics.py (the paper's metrics, vectorized), bootstrap.py (intervals, paired comparison),
scorers (judge.py, predictions.py, baselines/), run.py (one evaluation: gold, scorer, items,
summary), results.py (the files), leaderboard.py, chart.py, and assets.py (the Dagster wiring).
"""
