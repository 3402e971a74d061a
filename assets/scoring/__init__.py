"""Scoring: pure functions on scored entries (metrics, the trivial and shortcut baselines, the
scored-frame layout), below both the validity gate (assets/checks/validity) and the evaluation
(assets/evaluation), which each import them and neither of which they import."""
