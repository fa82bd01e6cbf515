"""Models fitted on training folds and predicting test features."""
