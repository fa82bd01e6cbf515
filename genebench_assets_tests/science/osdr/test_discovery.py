"""Discovery helpers moved from the refresh wiring into the science core: the benchmark's mission
name from an OSDR search hit, and the Flight/Ground counts of a study's sample table."""

import pytest

from genebench_assets.science.osdr.discovery import mission_from_hit


@pytest.mark.parametrize("hit, expected", [
    ({"Study Title": "Rodent Research-9 liver transcriptome", "Mission": "SpaceX-12"}, "RR-9"),
    ({"Study Title": "RR10 thymus", "Mission": {"Name": "SpaceX-21"}}, "RR-10"),
    ({"Study Title": "MHU-2 skin", "Mission": "SpaceX-14"}, "MHU-2"),
    ({"Study Title": "a study", "Mission": {"Name": "Bion-M1"}}, "Bion-M1"),
    ({"Study Title": "a study"}, None),
])
def test_mission_from_hit_prefers_the_rodent_mission_in_the_title(hit, expected):
    assert mission_from_hit(hit) == expected
