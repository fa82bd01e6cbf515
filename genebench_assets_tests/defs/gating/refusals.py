"""The one assertion every gated pair's test makes about a later run of a reader: it failed, in one line
naming the refused input (asset and partition) and the blocking check that failed on it."""

from __future__ import annotations


def step_failures(result) -> dict[str, str]:
    return {e.step_key: e.event_specific_data.error.message for e in result.all_events
            if e.event_type_value == "STEP_FAILURE"}


def assert_refused(result, reader: str, asset: str, partition: str | None, check: str) -> str:
    """Returns the one-line message. `partition` None: an unpartitioned input."""
    assert not result.success
    failures = step_failures(result)
    lines = failures[reader].strip().splitlines()
    assert len(lines) == 1, failures[reader]  # one line, no traceback
    label = f"{asset} [{partition}]" if partition else asset
    assert f"refuses {label}" in lines[0] and f"blocking check {check} failed" in lines[0], lines
    return lines[0]


def plant_model_fit_on_test_samples(monkeypatch) -> None:
    """Planted fault: lomo_folds record the model fit on training and test samples, so its blocking
    leakage_fitted_steps_saw_training_only fails on the folds it writes."""
    import dataclasses

    from genebench_assets.science.tasks import folds

    original = folds.build_lomo_folds

    def build(*args, **kwargs):
        built = original(*args, **kwargs)
        return folds.FoldList([dataclasses.replace(f, fitted_steps={**f.fitted_steps,
                                                                    folds.STEP_MODEL_FIT: f.train_ids + f.test_ids})
                               for f in built], built.skipped)

    monkeypatch.setattr(folds, "build_lomo_folds", build)
