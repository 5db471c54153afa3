"""The recommender product as one Definitions object (storage resources come from the platform)."""

import dagster as dg

from ml_platform.recommender import assets, checks
from ml_platform.recommender.resources import RecommenderSettings


def build_definitions(settings: RecommenderSettings | None = None) -> dg.Definitions:
    return dg.Definitions(
        assets=dg.load_assets_from_modules([assets]),
        asset_checks=checks.ALL_CHECKS,
        jobs=[
            dg.define_asset_job(
                "recommender_job",
                selection=dg.AssetSelection.groups(assets.GROUP),
                description="Load, split, train both stages, index, recommend.",
            )
        ],
        resources={"recommender_settings": settings or RecommenderSettings()},
    )


defs = build_definitions()
