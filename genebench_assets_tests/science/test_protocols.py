"""The protocol decides randomness and where fitted steps look; an unknown protocol is refused by name."""

import pytest

from genebench_assets.science import protocols
from genebench_assets.science.evaluation.metrics import RANDOMNESS_MODES


def test_each_protocol_maps_to_a_known_randomness():
    for p in protocols.PROTOCOLS:
        assert protocols.evaluation_randomness(p) in RANDOMNESS_MODES
        assert protocols.submission_randomness(p) in RANDOMNESS_MODES
    assert protocols.evaluation_randomness("seed") == "seed_randomstate"
    assert protocols.fits_on_training_only("strict") and not protocols.fits_on_training_only("seed")


def test_unknown_protocol_is_refused_with_its_name():
    with pytest.raises(ValueError, match="GENEBENCH_PROTOCOL: unknown protocol 'sloppy'"):
        protocols.evaluation_randomness("sloppy")
