"""Connectors as the sandbox's real Kafka Connect worker reported them, read once and frozen
(fixtures/connect_staging.json says how), so the Connectors screens look the same on every run
without a worker: a running source, a paused sink, and a sink whose task FAILED with its trace."""

from __future__ import annotations

import json
from pathlib import Path

from backend.connect.models import ConnectorDetails, ConnectorList
from console.client.connect import ConnectorListing

FROZEN = json.loads((Path(__file__).parent / "fixtures" / "connect_staging.json").read_text())
ENVIRONMENT: str = FROZEN["environment"]
FAILED_TASK = "audit-sink"


def frozen_listing(environment: str = ENVIRONMENT) -> ConnectorListing:
    """The frozen list answer, as if `environment` had given it."""
    text = json.dumps(FROZEN["listing"]).replace(f"/{ENVIRONMENT}/", f"/{environment}/")
    answer = ConnectorList.model_validate_json(text)
    return ConnectorListing(answer.data, answer.warnings, None)


def frozen_details(name: str) -> ConnectorDetails:
    return ConnectorDetails.model_validate(FROZEN["details"][name])
