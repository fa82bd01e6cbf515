import pandas as pd
import pytest

from genebench_assets.science.osdr.strains import STRAIN_TOKENS, parse_strain
from genebench_assets_tests.conftest import shared_path


@pytest.mark.parametrize(
    "name, strain",
    [
        ("Mmus_C57-6J_LVR_FLT_I_Rep1_M21", "C57BL/6J"),
        ("Mmus_C57-6T_TMS_GC_LAR_Rep1_G2", "C57BL/6Tac"),
        ("Mmus_C57-6CR_TMS_MHU1_GC_Rep1_G1", "C57BL/6NCrl"),
        ("Mmus_BAL-TAL_LVR_GC_Rep1_G1", "BALB/cAnNTac"),
        ("Mmus_C3H-HeJ_KDN_FLT_25days_Rep1_F2", "C3H/HeJ"),
        ("RR-1.Mmus_C57-6J_GST_GC_Rep1_M33", "C57BL/6J"),  # mission-prefixed task id
        ("mmus_c57-6j_lvr_flt_rep1", "C57BL/6J"),
    ],
)
def test_strain_tokens(name, strain):
    assert parse_strain(name) == strain


@pytest.mark.parametrize(
    "name", ["GSM7708682", "SRR11148753", "M21", "RR8_LVR_FLT_ISS-T_YNG_FI1", "RR-5.GSM5398358", "Mmus_C57-6JX_LVR_1"]
)
def test_no_token_gives_none(name):
    assert parse_strain(name) is None


def test_two_different_tokens_are_an_error_not_a_guess():
    with pytest.raises(ValueError, match="Mmus_C57-6J_C3H-HeJ_X"):
        parse_strain("Mmus_C57-6J_C3H-HeJ_X")


def test_table_is_data():
    assert STRAIN_TOKENS["C57-6CR"] == "C57BL/6NCrl" and len(STRAIN_TOKENS) >= 5


def test_real_release_sample_names():
    tasks = shared_path("genelab_release", "tasks")
    names = set()
    for meta in tasks.glob("A*_lomo/fold_*/test_meta.csv"):
        names |= set(pd.read_csv(meta, index_col=0).index.astype(str))
    assert names
    mmus = [n for n in names if "Mmus_" in n]
    others = [n for n in names if "Mmus_" not in n]
    assert mmus and others
    assert all(parse_strain(n) in STRAIN_TOKENS.values() for n in mmus), [n for n in mmus if parse_strain(n) is None]
    assert all(parse_strain(n) is None for n in others)
    # The seed hard-coded C57BL/6J; the names say otherwise for RR-3 (BALB/c) and kidney RR-7 (C3H/HeJ).
    assert parse_strain("Mmus_BAL-TAL_LVR_GC_Rep1_G1") == "BALB/cAnNTac"
    assert {parse_strain(n) for n in mmus} >= {"C57BL/6J", "C57BL/6Tac", "BALB/cAnNTac", "C3H/HeJ"}
