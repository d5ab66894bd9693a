"""A private varnishd for the tests: the shipped VCL in front of a backend, on a free port, stopped at the end."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from tailored_cms.edge import VCL

from ..redis_server import free_port


class VarnishServer:
    """``varnishd -F`` with a VCL that names the backend and includes ``tailored_cms/edge/tailored.vcl`` as is."""

    def __init__(self, backend_port: int, port: int | None = None) -> None:
        binary = shutil.which("varnishd") or shutil.which("varnishd", path="/usr/sbin")
        if binary is None:
            raise RuntimeError("varnishd is not installed: run the tests with `make test`, which installs it.")
        self.binary = binary
        self.port = port or free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="tailored-varnish-"))
        self.dir.chmod(0o755)  # varnishd's worker runs as its own user and reads the compiled VCL from here
        self.vcl = self.dir / "site.vcl"
        self.vcl.write_text(
            f'vcl 4.1;\nbackend default {{ .host = "127.0.0.1"; .port = "{backend_port}"; }}\ninclude "{VCL}";\n'
        )
        self.log = self.dir / "varnishd.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log.open("wb") as output:
            self.process = subprocess.Popen(
                [
                    *(self.binary, "-F", "-f", str(self.vcl), "-n", str(self.dir / "work")),
                    *("-a", f"127.0.0.1:{self.port}", "-s", "malloc,64m", "-T", "none"),
                ],
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"varnishd exited with {self.process.returncode}:\n{self.log.read_text()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"varnishd did not listen on port {self.port}:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None
        shutil.rmtree(self.dir, ignore_errors=True)
