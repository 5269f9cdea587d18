"""Copies the main snapshot SVGs into screenshots/ for the README (`make screenshots`)."""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOTS = Path(__file__).resolve().parent / "__snapshots__"
# Screens that need a real Connect worker are snapshotted by the Kafka tests.
KAFKA_SNAPSHOTS = ROOT / "tests" / "kafka" / "__snapshots__"
MAIN = {
    "test_k2k/test_k2k_apps_snapshot.svg": "k2k-apps.svg",
    "test_k2k/test_k2k_detail_snapshot.svg": "k2k-detail.svg",
    "test_k2k/test_offsets_editor_snapshot.svg": "offsets-editor.svg",
    "test_k2k/test_k2k_editor_with_error_snapshot.svg": "k2k-editor-error.svg",
    "test_k2k/test_offsets_diff_snapshot.svg": "offsets-diff.svg",
    "test_snapshots/test_environments_production_in_focus.svg": "environments.svg",
    "test_snapshots/test_environments_wide.svg": "environments-160x45.svg",
    "test_snapshots/test_environment_detail.svg": "environment-detail.svg",
    "test_snapshots/test_new_environment_form_with_server_error.svg": "new-environment-error.svg",
    "test_snapshots/test_connection_form.svg": "connection-form.svg",
    "test_snapshots/test_delete_production_confirmation.svg": "delete-production.svg",
    "test_snapshots/test_help.svg": "help.svg",
    "test_snapshots/test_environments_in_theme[streamhq-ansi].svg": "theme-ansi.svg",
    "test_snapshots/test_environments_in_theme[streamhq-light].svg": "theme-light.svg",
    "test_connector_snapshots/test_connectors_with_a_failed_task[120x40].svg": "connectors.svg",
    "test_connector_snapshots/test_connector_detail_with_a_failed_task[120x40].svg": "connector-detail.svg",
    "test_connector_snapshots/test_connector_trace.svg": "connector-trace.svg",
}
KAFKA = {
    "test_console_connect/test_editor_with_validation_errors_snapshot.svg": "connector-editor-errors.svg",
    "test_console_connect/test_connector_offsets_grid_snapshot.svg": "connector-offsets.svg",
}


def main() -> None:
    target = ROOT / "screenshots"
    target.mkdir(exist_ok=True)
    for folder, snapshots in ((SNAPSHOTS, MAIN), (KAFKA_SNAPSHOTS, KAFKA)):
        for source, name in snapshots.items():
            shutil.copyfile(folder / source, target / name)
            print(f"screenshots/{name}")


if __name__ == "__main__":
    main()
