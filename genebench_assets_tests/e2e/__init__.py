"""End-to-end tests against the real `dagster-webserver` + `dagster-daemon` (issue 5, "The UI, for real")."""
