"""SpaceOmicsBench LLM question bank as assets (group ``llm``; see assets.py for modes, resources.py
for the environment variables). ``defs`` carries its own two resources, ``spaceomicsbench`` and
``anthropic``, configured from the environment at call time, so loading never needs a key."""

import dagster as dg

from genebench_assets.defs.llm import assets, checks
from genebench_assets.defs.llm.text_track import text_llm_examples_from_training_only, text_llm_predictions
from genebench_assets.defs.llm.resources import AnthropicResource, SpaceOmicsBenchResource

defs = dg.Definitions(
    assets=[*dg.load_assets_from_modules([assets]), text_llm_predictions],
    asset_checks=[*dg.load_asset_checks_from_modules([checks]), text_llm_examples_from_training_only],
    resources={"spaceomicsbench": SpaceOmicsBenchResource(), "anthropic": AnthropicResource()},
)
