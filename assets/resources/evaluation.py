from dagster import ConfigurableResource


class EvaluationSettings(ConfigurableResource):
    """Where evaluation results and the registry of evaluation names live (`recrm eval --out`;
    default: RECRM_RESULTS_DIR, else `[eval] results_dir` in recrm.toml, else `results`)."""

    results_dir: str = "results"
