"""`dagster-daemon` with a shorter backfill loop, for the end-to-end tests only.

    python -m genebench_assets_tests.e2e.fast_daemon SECONDS run -w workspace.yaml

dagster 1.13's backfill daemon evaluates asset backfills every DEFAULT_DAEMON_INTERVAL_SECONDS (30 s,
dagster/_daemon/backfill.py, not configurable in dagster.yaml); a backfill crossing catalog -> study ->
tissue needs ~4 iterations, so 2 minutes of a test would be spent waiting for the loop, not working.
Everything else is the stock daemon CLI (`dagster._daemon.cli.main`), unchanged."""

from __future__ import annotations

import sys


def main() -> int:
    import dagster._daemon.controller as controller
    from dagster._daemon.cli import main as daemon_main

    controller.DEFAULT_DAEMON_INTERVAL_SECONDS = float(sys.argv.pop(1))
    sys.argv[0] = "dagster-daemon"
    return daemon_main()


if __name__ == "__main__":
    sys.exit(main())
