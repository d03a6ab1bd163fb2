"""One connection to the control socket: JSON lines in both directions."""

from __future__ import annotations

import json
import socket
import time
from typing import Any, Dict, Optional


class VgpioError(Exception):
    """The daemon refused a request; the message is its error text, ``kind``
    its ``error_kind`` ("no-line", "conflict"...: see vgpio-control(7)), or
    None when the connection itself failed."""

    def __init__(self, message: str, kind: Optional[str] = None) -> None:
        super().__init__(message)
        self.kind = kind


class Connection:
    """A control-socket connection: ``call`` for a request and its answer,
    ``next`` for the events of a ``watch``."""

    def __init__(self, path: str, timeout: float = 10.0) -> None:
        self.path = path
        self.timeout = timeout
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self._sock.connect(path)
        except OSError as e:
            self._sock.close()
            raise VgpioError(f"cannot reach the vgpio control socket {path}: {e}; is the daemon running?") from e
        self._buffer = b""

    def send(self, request: Dict[str, Any]) -> None:
        """Sends one request; its answer comes among the events (``next``)."""
        self._sock.sendall(json.dumps(request).encode() + b"\n")

    def call(self, request: Dict[str, Any]) -> Dict[str, Any]:
        """Sends one request and returns its answer; raises VgpioError when refused."""
        self.send(request)
        answer = self.next(self.timeout)
        if answer is None:
            raise VgpioError(f"the daemon did not answer {request.get('cmd')} within {self.timeout} s")
        if not answer.get("ok"):
            raise VgpioError(answer.get("error", "request failed"), answer.get("error_kind", "failed"))
        return answer

    def next(self, timeout: Optional[float]) -> Optional[Dict[str, Any]]:
        """The next line from the daemon, or None after ``timeout`` seconds (None: wait forever)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while b"\n" not in self._buffer:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return None
            self._sock.settimeout(left)
            try:
                chunk = self._sock.recv(65536)
            except socket.timeout:
                return None
            if not chunk:
                raise VgpioError("the daemon closed the control connection")
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return json.loads(line)

    def close(self) -> None:
        self._sock.close()
