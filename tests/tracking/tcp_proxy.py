"""A TCP proxy the outage tests put in front of a real server (PostgreSQL, Redis) to cut the network and restore it.

``cut()`` drops every connection through it at once (the client sees the server close the connection, as when a
database restarts or a firewall resets it) and closes each new one as soon as it is accepted, until
``restore()``. The server behind it keeps running with all its data: only the network between fails.
"""

from __future__ import annotations

import contextlib
import socket
import threading

from ..redis_server import free_port


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._listener = socket.create_server(("127.0.0.1", self.port), reuse_port=False)
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._up = True
        self._closed = False
        self.accepted = 0  # connections accepted while up (each one a client's connection to the server)
        self.refused = 0  # connections dropped because the network was cut
        threading.Thread(target=self._accept, name="tcp-proxy", daemon=True).start()

    # --- the test's controls ---

    def cut(self) -> None:
        """Drop every connection now and every new one until ``restore()``."""
        with self._lock:
            self._up = False
            sockets, self._open = self._open, set()
        for sock in sockets:
            _drop(sock)

    def restore(self) -> None:
        with self._lock:
            self._up = True

    def close(self) -> None:
        self._closed = True
        self.cut()
        with contextlib.suppress(OSError):
            self._listener.close()

    # --- plumbing ---

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _address = self._listener.accept()
            except OSError:
                return
            with self._lock:
                up = self._up
            if not up:
                self.refused += 1
                _drop(client)
                continue
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                _drop(client)
                continue
            server.settimeout(None)
            with self._lock:
                if not self._up:  # cut while connecting
                    _drop(client)
                    _drop(server)
                    continue
                self.accepted += 1
                self._open |= {client, server}
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with self._lock:
                self._open -= {source, sink}
            _drop(source)
            _drop(sink)


def _drop(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()
