"""Expression: normalization, sample QC and differential expression."""
