"""The platform's one code location: every product's Definitions plus this deployment's resources.

`ML_PLATFORM_ENV` (local by default, or production) chooses the resources; see core/settings.py.
"""

import dagster as dg

from ml_platform.core.settings import build_resources
from ml_platform.entity_matching import definitions as entity_matching
from ml_platform.recommender import definitions as recommender

defs = dg.Definitions.merge(
    entity_matching.defs, recommender.defs, dg.Definitions(resources=build_resources())
)
