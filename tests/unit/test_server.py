"""The listening sockets the HQ is served on (backend/server.py)."""

from __future__ import annotations

import asyncio
import socket

from backend.server import tcp_socket


async def test_connections_accepted_on_the_tcp_socket_have_nagle_off():
    """Otherwise each answer's body waits behind its headers for the client's delayed ACK."""
    accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def on_connect(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        accepted.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        writer.close()

    server = await asyncio.start_server(on_connect, sock=tcp_socket("127.0.0.1", 0))
    async with server:
        host, port = server.sockets[0].getsockname()[:2]
        _, writer = await asyncio.open_connection(host, port)
        nodelay = await asyncio.wait_for(accepted, 5)
        writer.close()

    assert nodelay != 0
