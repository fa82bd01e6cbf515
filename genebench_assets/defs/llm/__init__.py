"""SpaceOmicsBench LLM question bank as assets (group ``llm``; see assets.py for modes, resources.py
for the environment variables). ``defs`` carries its own resources, ``spaceomicsbench``,
``anthropic`` and ``judge2`` (the second, OpenAI-compatible judge), configured from the environment at call time, so loading never needs a key."""

import dagster as dg

from genebench_assets.defs.llm import assets, checks
from genebench_assets.defs.llm.resources import AnthropicResource, SecondJudgeResource, SpaceOmicsBenchResource

defs = dg.Definitions(
    assets=dg.load_assets_from_modules([assets]),
    asset_checks=dg.load_asset_checks_from_modules([checks]),
    resources={"spaceomicsbench": SpaceOmicsBenchResource(), "anthropic": AnthropicResource(),
               "judge2": SecondJudgeResource()},
)
