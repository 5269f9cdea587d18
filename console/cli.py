"""`streamhq`: the console, and the sub-commands that run the HQ side.

This is the one composition root (docs/architecture.md, the layers): the only console module that imports the
backend's machinery, because it is where an embedded HQ is started next to the console.
"""

from __future__ import annotations

import argparse
import getpass
import json
import secrets
import sys
import threading
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING

from backend.settings import default_home
from console import heap
from console.client import HQClient
from console.client.credentials import NoToken, find_token, store_token
from console.config import ConsoleConfig

# The server side (FastAPI, the agent's Kafka clients, the sandbox) is imported where it is
# started: a console on a remote HQ never loads it, and the first frame comes sooner.
if TYPE_CHECKING:
    from backend.sandbox.demo import OrderStream
    from backend.server import ServerThread


def _parser() -> argparse.ArgumentParser:
    # `--home` is taken before or after the sub-command; SUPPRESS keeps a sub-command's
    # absent --home from overwriting one given before it.
    home = argparse.ArgumentParser(add_help=False)
    home.add_argument("--home", type=Path, metavar="DIR", default=argparse.SUPPRESS,
                      help="state directory (default: $STREAMHQ_HOME, else the XDG data dir)")
    parser = argparse.ArgumentParser(
        prog="streamhq", parents=[home],
        description="A keyboard-driven console for Kafka fleet operations, and its HQ server.",
    )
    parser.add_argument("--server", metavar="URL", help="drive a remote HQ (token: STREAMHQ_TOKEN, keyring, or login)")
    parser.add_argument("--read-only", action="store_true", help="hide and refuse every mutating action")
    parser.add_argument("--theme", help="start with this theme (the choice is remembered)")
    parser.add_argument("--sandbox", action="store_true",
                        help="bring up the local sandbox, register its clusters and run a demo stream (make run)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = commands.add_parser("serve", parents=[home], help="run the HQ server")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=9991, help="port to listen on (default: 9991)")
    serve.add_argument("--no-builtin-agent", dest="builtin_agent", action="store_false",
                       help="leave every environment to a standalone agent: this process dials no cluster")
    serve.add_argument("--no-k2k-controller", dest="k2k_controller", action="store_false",
                       help="start no K2K workers here (they run elsewhere, e.g. on Kubernetes)")

    token = commands.add_parser("token", help="manage service-account tokens")
    token_commands = token.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    create = token_commands.add_parser("create", parents=[home], help="create a service-account token (printed once)")
    create.add_argument("name")

    login = commands.add_parser("login", help="store the token for a remote HQ in the keyring")
    login.add_argument("url")

    sandbox = commands.add_parser("sandbox", help="local Apache Kafka clusters, Kafka Connect and Redpanda Connect")
    sandbox_commands = sandbox.add_subparsers(dest="sandbox_command", required=True, metavar="ACTION")
    sandbox_commands.add_parser("up", parents=[home], help="start (or reuse) the sandbox; returns once it is healthy")
    status = sandbox_commands.add_parser("status", parents=[home], help="what runs, and where")
    status.add_argument("--json", action="store_true", help="machine-readable")
    sandbox_commands.add_parser("down", parents=[home], help="stop every sandbox process (data is kept)")

    worker = commands.add_parser("worker", help="run one worker process of a K2K app (HQ starts these)")
    worker.add_argument("--app", required=True, help="the K2K app's name (must match the config)")
    worker.add_argument("--config", type=Path, required=True, help="the worker config JSON HQ rendered")
    worker.add_argument("--secrets", type=Path, help="credentials JSON kept apart from the config (Kubernetes)")
    worker.add_argument("--worker-id", default="0", help="the worker's slot; its static group member id")

    k2k = commands.add_parser("k2k", help="K2K apps")
    k2k_commands = k2k.add_subparsers(dest="k2k_command", required=True, metavar="ACTION")
    manifest = k2k_commands.add_parser("manifest", parents=[home],
                                       help="print the Kubernetes manifests (Deployment, ConfigMap, Secret) of an app")
    manifest.add_argument("name")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    args.home = (getattr(args, "home", None) or default_home()).resolve()
    if args.command == "serve":
        return serve(args.home, args.host, args.port, builtin_agent=args.builtin_agent,
                     k2k_controller=args.k2k_controller)
    if args.command == "token":
        return create_token(args.home, args.name)
    if args.command == "login":
        return login(args.url)
    if args.command == "sandbox":
        return sandbox(args.home, args.sandbox_command, json_output=getattr(args, "json", False))
    if args.command == "worker":
        return worker(args.app, args.config, args.secrets, args.worker_id)
    if args.command == "k2k":
        return k2k_manifest(args.home, args.name)
    return console(args)


def serve(home: Path, host: str, port: int, *, builtin_agent: bool, k2k_controller: bool) -> int:
    import uvicorn

    from backend.app import create_app
    from backend.auth import ensure_admin_token
    from backend.deps import services_of
    from backend.server import tcp_socket
    from backend.settings import Settings

    settings = Settings(home=home, builtin_agent=builtin_agent, k2k_controller=k2k_controller)
    app = create_app(settings)
    generated = ensure_admin_token(services_of(app).store, settings.admin_token)
    if generated:
        print(f"Admin token (shown once, stored hashed in {home}):\n  {generated}", file=sys.stderr)
    print(f"streamhq HQ serving on http://{host}:{port} (state in {home})", file=sys.stderr)
    # Live feeds never end by themselves: without a bound, a stop waits for every client following one to leave.
    config = uvicorn.Config(app, log_level="info", access_log=False, timeout_graceful_shutdown=5)
    heap.settle()
    uvicorn.Server(config).run(sockets=[tcp_socket(host, port)])
    return 0


def create_token(home: Path, name: str) -> int:
    from backend.auth import create_service_account_token
    from backend.settings import Settings
    from backend.store import SQLiteStore
    from backend.store.base import StoreConflict
    store = SQLiteStore(Settings(home=home).database)
    try:
        token = create_service_account_token(store, name)
    except StoreConflict:
        print(f"streamhq: a token named {name!r} exists already", file=sys.stderr)
        return 1
    finally:
        store.close()
    print(token)
    print(f"Service-account token {name!r} created; it is shown only now.", file=sys.stderr)
    return 0


def worker(app: str, config_file: Path, secrets_file: Path | None, worker_id: str) -> int:
    from backend.replicator.config import WorkerConfig
    from backend.replicator.worker import EXIT_CONFIG, run_worker

    try:
        secrets_doc = json.loads(secrets_file.read_text()) if secrets_file else None
        config = WorkerConfig.load(json.loads(config_file.read_text()), secrets_doc)
    except (OSError, ValueError) as exc:
        print(f"streamhq worker: cannot read the config: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    if config.app != app:
        print(f"streamhq worker: the config is for app {config.app!r}, not {app!r}", file=sys.stderr)
        return EXIT_CONFIG
    return run_worker(config, worker_id)


def k2k_manifest(home: Path, name: str) -> int:
    from backend.k2k.manifest import render_manifests
    from backend.settings import Settings
    from backend.store import SQLiteStore

    store = SQLiteStore(Settings(home=home).database)
    try:
        print(render_manifests(store, name), end="")
    except LookupError as exc:
        print(f"streamhq: {exc.args[0]}", file=sys.stderr)
        return 1
    finally:
        store.close()
    return 0


def login(url: str) -> int:
    token = getpass.getpass(f"Token for {url}: ").strip() if sys.stdin.isatty() else sys.stdin.readline().strip()
    if not token:
        print("streamhq: no token given", file=sys.stderr)
        return 1
    print(f"Token stored in {store_token(url, token)}.", file=sys.stderr)
    return 0


def sandbox(home: Path, action: str, *, json_output: bool) -> int:
    from backend.sandbox import Sandbox, SandboxError
    def say(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    box = Sandbox(home, log=say)
    try:
        if action == "up":
            status = box.up()
        elif action == "down":
            box.down()
            return 0
        else:
            status = box.status()
    except SandboxError as exc:
        say(f"streamhq sandbox: {exc}")
        return 1
    if json_output or action == "up":
        print(json.dumps(status, indent=2))
    else:
        for name, cluster in status["clusters"].items():
            print(f"kafka {name:<8} {cluster['bootstrap'] if cluster else 'not running'}")
        for kafka, worker in status["connects"].items():
            print(f"connect {kafka:<6} {worker['url'] if worker else 'not running'}")
        redpanda_connect = status["redpanda_connect"]
        missing = status.get("redpanda_connect_problem", "not running")
        print(f"redpanda       {redpanda_connect['url'] if redpanda_connect else missing}")
    return 0


def console(args: argparse.Namespace) -> int:
    heap.hold()  # until the app settles the heap, after its first screen
    from console.app import StreamHQApp

    config = ConsoleConfig.load()
    if args.theme:
        config.theme = args.theme
    embedded: EmbeddedHQ | None = None
    if args.server:
        try:
            client = HQClient(args.server, find_token(args.server))
        except NoToken as exc:
            print(f"streamhq: {exc}", file=sys.stderr)
            return 2
    else:
        embedded = EmbeddedHQ(args.home)
        client = embedded.client
    demo = None
    if args.sandbox and embedded:
        demo = start_demo(embedded.start(), args.home)  # it registers the sandbox through the running HQ
    try:
        StreamHQApp(client, config, read_only=args.read_only, settle_heap=True,
                    after_first_frame=embedded.start_in_background if embedded else None).run()
    finally:
        if demo:
            demo.stop()
        if embedded:
            embedded.stop()
    if embedded and embedded.failure:
        print(f"streamhq: the embedded HQ did not start: {embedded.failure!r}", file=sys.stderr)
        return 1
    return 0


def start_demo(embedded: ServerThread, home: Path) -> OrderStream | None:
    """The sandbox up (reused when running), its clusters registered, the demo stream flowing.
    Without Java or Maven the console still opens, after saying what is missing."""
    from backend.deps import services_of
    from backend.sandbox import Sandbox, SandboxError
    from backend.sandbox.demo import OrderStream, register, register_replication
    try:
        status = Sandbox(home, log=lambda m: print(m, file=sys.stderr, flush=True)).up()
    except SandboxError as exc:
        print(f"streamhq: the sandbox is not available: {exc}\nOpening the console without it.", file=sys.stderr)
        return None
    services = services_of(embedded.server.config.app)
    register(services.environments, status)
    stream = OrderStream(status["clusters"]["source"]["bootstrap"]).start()
    if status["clusters"]["target"]:
        register_replication(services.k2k)
    return stream


class EmbeddedHQ:
    """An HQ for this console alone, on a background thread, listening on a 0600 UNIX socket in the
    state directory with a token that lives only as long as this process.

    The socket is bound and listening from the start, so the console can draw its first frame and
    send its first requests before the server exists: the kernel queues their connections in the
    socket's backlog until the server, started after that frame (`start_in_background`), accepts
    them. FastAPI, uvicorn and the agent's Kafka clients are then imported off the first frame's path.
    """

    def __init__(self, home: Path) -> None:
        from backend.server import unix_socket

        self.home = home
        self._token = secrets.token_urlsafe(32)
        socket_path = home / "hq.sock"
        self.sock = unix_socket(socket_path)
        self.client = HQClient(f"embedded ({home})", self._token, uds=str(socket_path))
        self.server: ServerThread | None = None
        self.failure: Exception | None = None  # why `start_in_background` could not start it
        self._starting: threading.Thread | None = None

    def start(self) -> ServerThread:
        """Starts the server (once); returns when it accepts."""
        if self.server is None:
            from backend.app import create_app
            from backend.server import ServerThread
            from backend.settings import Settings

            try:
                app = create_app(Settings(home=self.home, session_token=self._token))
                self.server = ServerThread(app, self.sock).start()
            except Exception as exc:
                self.failure = exc
                self.sock.close()  # the console's requests fail now (it says so) rather than wait in the backlog
                raise
        return self.server

    def start_in_background(self) -> None:
        if self._starting is None and self.server is None:
            self._starting = threading.Thread(target=self._start_recording_failure, name="streamhq-hq-start",
                                              daemon=True)
            self._starting.start()

    def _start_recording_failure(self) -> None:
        # Not raised here: a thread's traceback would be printed over the console's screen.
        with suppress(Exception):
            self.start()

    def stop(self) -> None:
        if self._starting is not None:
            self._starting.join()
        if self.server is not None:
            self.server.stop()
        else:
            self.sock.close()


def start_embedded(home: Path) -> tuple[ServerThread, HQClient]:
    """An embedded HQ, started before it returns (tests, benchmarks)."""
    embedded = EmbeddedHQ(home)
    return embedded.start(), embedded.client


if __name__ == "__main__":
    sys.exit(main())
