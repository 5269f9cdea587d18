"""Local, real infrastructure for trying and testing streamhq: two Apache Kafka clusters
(`source`, `target`), a Kafka Connect worker on `source`, and Redpanda Connect (Benthos) in
streams mode. The same code serves `streamhq sandbox` and the test suite's fixtures."""

from backend.sandbox.processes import SandboxError
from backend.sandbox.sandbox import Sandbox

__all__ = ["Sandbox", "SandboxError"]
