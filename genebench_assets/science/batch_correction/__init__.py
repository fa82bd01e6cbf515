"""Batch correction across missions (issue 21, J3 and the A1 ComBat variant): corrections.py (ComBat-seq,
limma-style removeBatchEffect, uncorrected; seed and strict fits per fold), evaluation.py (the J3 LOMO and
pairwise comparisons, the A1 ComBat and ISS-only variants, the published layouts), checks.py (the test
mission's labels never enter a correction)."""
