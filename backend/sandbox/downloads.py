"""Fetching the sandbox's real parts into the user's cache, once: Apache Kafka's jars from
Maven Central, and a Redpanda Connect core (Benthos) binary built from the Go module proxy.

Each goes into a temporary directory first and is renamed into place when complete, so an
interrupted download is never mistaken for a finished one."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import platformdirs

from backend.sandbox.processes import SandboxError

KAFKA_VERSION = "4.3.1"
LOG4J_VERSION = "2.24.3"
# Named explicitly: Maven's nearest-wins would otherwise pick a transitive slf4j-api 1.7, which
# cannot see the log4j2 binding, and every Kafka log line would be dropped.
SLF4J_VERSION = "2.0.17"
KAFKA_ARTIFACTS = ("kafka_2.13", "kafka-tools", "connect-runtime", "connect-file", "connect-mirror", "connect-json")
# The newest Benthos release the Go module proxy serves here is tried first; the proxy refused
# v4.73.0 (403) when this was written, and v4.63.1 builds.
BENTHOS_VERSIONS = ("v4.73.0", "v4.63.1")


class MissingTool(SandboxError):
    pass


def cache_dir() -> Path:
    """`$STREAMHQ_CACHE`, else ~/.cache/streamhq."""
    env = os.environ.get("STREAMHQ_CACHE")
    return Path(env) if env else Path(platformdirs.user_cache_dir("streamhq"))


def require(tool: str, purpose: str, how: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise MissingTool(f"`{tool}` is not installed; it is needed {purpose}. {how}")
    return path


def _pom() -> str:
    dependency = "<dependency><groupId>{g}</groupId><artifactId>{a}</artifactId><version>{v}</version></dependency>"
    deps = [dependency.format(g="org.apache.kafka", a=a, v=KAFKA_VERSION) for a in KAFKA_ARTIFACTS]
    deps += [dependency.format(g="org.apache.logging.log4j", a=a, v=LOG4J_VERSION)
             for a in ("log4j-slf4j2-impl", "log4j-core")]
    deps.append(dependency.format(g="org.slf4j", a="slf4j-api", v=SLF4J_VERSION))
    return f"""<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.streamhq</groupId><artifactId>kafka-sandbox</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    {chr(10).join("    " + d for d in deps).strip()}
  </dependencies>
</project>
"""


def kafka_libs(log: Callable[[str], None] = lambda _: None) -> Path:
    """The directory of Kafka's jars (brokers, tools, Connect with FileStream and MirrorMaker 2)."""
    target = cache_dir() / f"kafka-{KAFKA_VERSION}" / f"libs-slf4j-{SLF4J_VERSION}"
    if target.is_dir():
        return target
    log(f"Fetching Apache Kafka {KAFKA_VERSION} from Maven Central into {target.parent} (once)…")
    java = "for the Kafka sandbox (brokers and Kafka Connect run on the JVM)"
    require("java", java, "Install a JDK 17+ (e.g. `apt-get install openjdk-17-jre-headless`).")
    mvn = require("mvn", "to fetch Apache Kafka's jars from Maven Central", "Install Maven (`apt-get install maven`).")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".download-") as work:
        (Path(work) / "pom.xml").write_text(_pom())
        result = subprocess.run(
            [mvn, "-q", "-B", "dependency:copy-dependencies", f"-DoutputDirectory={work}/libs"],
            cwd=work, capture_output=True, text=True,
        )
        if result.returncode != 0:
            raise SandboxError(
                f"Fetching Apache Kafka {KAFKA_VERSION} from Maven Central failed:\n{result.stdout[-3000:]}"
                f"{result.stderr[-2000:]}"
            )
        (Path(work) / "libs").rename(target)
    return target


_BENTHOS_MAIN = """package main

import (
\t"context"

\t_ "github.com/redpanda-data/benthos/v4/public/components/io"
\t_ "github.com/redpanda-data/benthos/v4/public/components/pure"
\t"github.com/redpanda-data/benthos/v4/public/service"
)

func main() {
\tservice.RunCLI(context.Background())
}
"""


def benthos_binary(log: Callable[[str], None] = lambda _: None) -> Path:
    """A Benthos (Redpanda Connect core) binary with the pure and io components.

    Built from a two-line main module rather than `go install …/cmd/benthos@v`: the proxy
    answers 403 for the `cmd/benthos` sub-path and for the module's version list, which
    `go install` treats as fatal, while a module that requires an exact version resolves."""
    existing = next((cache_dir() / f"benthos-{v}" / "benthos" for v in BENTHOS_VERSIONS
                     if (cache_dir() / f"benthos-{v}" / "benthos").is_file()), None)
    if existing:
        return existing
    go = require("go", "to build Redpanda Connect (Benthos) for the sandbox", "Install Go 1.22+ (https://go.dev/dl).")
    log(f"Building Redpanda Connect (Benthos) into {cache_dir()} (once)…")
    failures = []
    for version in BENTHOS_VERSIONS:
        target = cache_dir() / f"benthos-{version}"
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=target.parent, prefix=".build-") as work:
            Path(work, "main.go").write_text(_BENTHOS_MAIN)
            Path(work, "go.mod").write_text(
                f"module streamhq.dev/benthos\n\ngo 1.22\n\nrequire github.com/redpanda-data/benthos/v4 {version}\n"
            )
            steps = ([go, "mod", "tidy"], [go, "build", "-o", f"{work}/out/benthos", "."])
            result = None
            for step in steps:
                result = subprocess.run(step, cwd=work, capture_output=True, text=True)
                if result.returncode != 0:
                    break
            if result is not None and result.returncode == 0:
                Path(work, "out").rename(target)
                return target / "benthos"
            last_line = (result.stderr.strip().splitlines() or ["no output"])[-1] if result else "not run"
            failures.append(f"{version}: {last_line}")
    raise SandboxError("Building Redpanda Connect (Benthos) failed for every version tried: " + "; ".join(failures))
