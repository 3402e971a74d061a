"""The step contract (`contract.py`: `Step`, `BuildContext`, `StepResult`) and the one factory
that turns steps into Dagster assets (`dagster.py`: `step_asset`)."""
