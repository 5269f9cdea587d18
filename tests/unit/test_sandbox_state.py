"""A sandbox's state.json from before it had a second Connect worker: its worker is the source's,
so `up` reuses it (and its connectors) and only starts the new one."""

from __future__ import annotations

import json
from pathlib import Path

from backend.sandbox import Sandbox

OLD_STATE = {
    "clusters": {"source": {"ports": {"plaintext": 1, "sasl": 2, "controller": 3}},
                 "target": {"ports": {"plaintext": 4, "sasl": 5, "controller": 6}}},
    "connect": {"port": 7, "process": {"pid": 70, "started": 700}},
    "redpanda_connect": None,
    "redpanda_connect_problem": None,
}


def test_the_one_worker_of_an_older_state_is_the_source_worker(tmp_path: Path):
    (tmp_path / "sandbox").mkdir()
    (tmp_path / "sandbox" / "state.json").write_text(json.dumps(OLD_STATE))

    box = Sandbox(tmp_path, log=lambda _: None)

    assert box.connects["source"].state == OLD_STATE["connect"]
    assert box.connect is box.connects["source"]
    assert box.connects["target"].state == {}
    assert box.connects["source"].home != box.connects["target"].home
