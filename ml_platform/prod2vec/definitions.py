"""The prod2vec product as one Definitions object (storage resources come from the platform)."""

import dagster as dg

from ml_platform.prod2vec import assets, checks
from ml_platform.prod2vec.resources import Prod2VecSettings

_SELECTION = dg.AssetSelection.groups(assets.GROUP)


def build_definitions(settings: Prod2VecSettings | None = None) -> dg.Definitions:
    return dg.Definitions(
        assets=dg.load_assets_from_modules([assets]),
        asset_checks=checks.ALL_CHECKS,
        jobs=[
            dg.define_asset_job(
                "prod2vec_job",
                selection=_SELECTION,
                description="Baskets → checked pairs → skip-gram with the given hyperparameters "
                "→ vectors, index, similar products. No tuning.",
            ),
            dg.define_asset_job(
                "prod2vec_tuning_job",
                selection=_SELECTION,
                description="The same, with a Bayesian search of the hyperparameters first "
                "(its trials and plots in prod2vec_tuning_analysis).",
                config={"ops": {"prod2vec_hyperparameters": {"config": {"tune": True}}}},
            ),
        ],
        resources={"prod2vec_settings": settings or Prod2VecSettings()},
    )


defs = build_definitions()
