"""Validity measures of a release: relevance labels against the generator's truth, leaks across
splits and dimensions (plain functions; the validity gate runs them on every release)."""
