"""A network that fails mid-request: a TCP proxy that drops each connection after N bytes from the client.

The first ``limit`` bytes a client sends on a connection reach the server; then both sides are
closed. An upload through it arrives at the server truncated, as on a connection lost mid-transfer.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from types import TracebackType


class CuttingProxy:
    def __init__(self, upstream_url: str, limit: int) -> None:
        host, _, port = upstream_url.removeprefix("http://").partition(":")
        self._upstream = (host, int(port))
        self._limit = limit
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)  # so that the accepting thread notices the proxy closing
        self._closing = threading.Event()
        self._threads: list[threading.Thread] = []
        self.forwarded: list[int] = []
        """Client bytes forwarded to the server, per connection."""

    @property
    def url(self) -> str:
        host, port = self._listener.getsockname()[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> CuttingProxy:
        accepting = threading.Thread(target=self._accept, daemon=True)
        accepting.start()
        self._threads.append(accepting)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._closing.set()
        for thread in self._threads:
            thread.join(timeout=10)
        self._listener.close()

    def _accept(self) -> None:
        while not self._closing.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            client.settimeout(None)
            relay = threading.Thread(target=self._relay, args=(client,), daemon=True)
            relay.start()
            self._threads.append(relay)

    def _relay(self, client: socket.socket) -> None:
        with client, socket.create_connection(self._upstream) as server:
            replies = threading.Thread(target=_pump, args=(server, client), daemon=True)
            replies.start()
            sent = 0
            while sent < self._limit:
                try:
                    chunk = client.recv(min(65536, self._limit - sent))
                    if not chunk:
                        break
                    server.sendall(chunk)
                except OSError:
                    break
                sent += len(chunk)
            self.forwarded.append(sent)
            for side in (client, server):
                with contextlib.suppress(OSError):  # already gone
                    side.shutdown(socket.SHUT_RDWR)
            replies.join(timeout=10)


def _pump(source: socket.socket, sink: socket.socket) -> None:
    """Copy the server's replies to the client until either side closes."""
    try:
        while chunk := source.recv(65536):
            sink.sendall(chunk)
    except OSError:
        return
