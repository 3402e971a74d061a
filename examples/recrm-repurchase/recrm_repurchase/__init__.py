"""recrm-repurchase: a repurchase-prediction dimension for RecRM-Bench, as an installable package.

`dimension.py` declares it (found through the `recrm.dimensions` entry point), `build.py` builds
its entries from the staged order histories, `assets.py` is its Dagster step, `templates/` its
versioned prompt template with its lock.
"""
