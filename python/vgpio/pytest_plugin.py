"""pytest fixtures for vgpio. Installed with the package (entry point
``pytest11``); from a source tree: ``pytest -p vgpio.pytest_plugin``.

- ``vgpio_daemon``: a ``vgpio serve`` for the session, from the config that the
  ``vgpio_config`` fixture returns (override it in a conftest.py for pools or
  wires), in a temporary folder; stopped at the end.
- ``vgpio``: a ``Client`` per test.
- ``vgpio_device``: makes fresh devices for one test; they go when it ends.
  ``vgpio_device(lines, clock="guest")`` makes one on its guest's time.
- ``vgpio_guest``: boots your firmware image in QEMU on a device, on the
  device's time when it follows its guest's (see vgpio/qemu_guest.py).
- ``vgpio_guest_time``: the QEMU options that put a guest on such a device's
  time (``-icount`` and the vgpio-clock plugin), for a guest you boot yourself.

The vgpio program is ``--vgpio-bin``, else $VGPIO_BIN, else ``vgpio`` on PATH;
the plugin ``--vgpio-clock-plugin``, else $VGPIO_CLOCK_PLUGIN, else the
vgpio-qemu-clock package's when it is installed; the guest's
kernel and initrd ``--vgpio-kernel``/``--vgpio-initrd``, else $VGPIO_KERNEL
and $VGPIO_INITRD.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, Optional, Sequence, Union

import pytest

from .client import Client, Device
from .connection import VgpioError
from .qemu_guest import QemuGuest, guest_time_qemu_args


# Where the vgpio-qemu-clock package puts the plugin.
INSTALLED_CLOCK_PLUGIN = "/usr/lib/vgpio/vgpio-clock.so"


def installed_clock_plugin() -> str:
    return INSTALLED_CLOCK_PLUGIN if os.path.exists(INSTALLED_CLOCK_PLUGIN) else ""


def pytest_addoption(parser: Any) -> None:
    parser.addoption("--vgpio-bin", default=os.environ.get("VGPIO_BIN", "vgpio"),
                     help="the vgpio program the fixtures start")
    parser.addoption("--vgpio-clock-plugin", default=os.environ.get("VGPIO_CLOCK_PLUGIN", installed_clock_plugin()),
                     help="the vgpio-clock QEMU plugin (vgpio-clock.so), for guests on a device's time")
    parser.addoption("--vgpio-kernel", default=os.environ.get("VGPIO_KERNEL", ""),
                     help="the kernel vgpio_guest boots")
    parser.addoption("--vgpio-initrd", default=os.environ.get("VGPIO_INITRD", ""),
                     help="the initrd vgpio_guest boots with it")


@dataclass
class Daemon:
    """A running ``vgpio serve`` of the session."""

    control: str  #: its control socket
    folder: Path  #: where its sockets and log are
    process: subprocess.Popen

    def log(self) -> str:
        return (self.folder / "vgpio.log").read_text()


@pytest.fixture(scope="session")
def vgpio_config() -> str:
    """The daemon's config (TOML), without the "control" key: one simulated
    device. Override it for [[pool]] lines or [[wire]]s."""
    return '[[device]]\nname = "base"\nsocket = "{folder}/base.sock"\n[[device.line]]\nname = "spare"\nsimulated = true\n'


@pytest.fixture(scope="session")
def vgpio_daemon(tmp_path_factory: Any, request: Any, vgpio_config: str) -> Iterator[Daemon]:
    """Starts ``vgpio serve`` for the session; "{folder}" in the config is its folder."""
    folder = tmp_path_factory.mktemp("vgpio")
    control = str(folder / "control.sock")
    config = folder / "vgpio.toml"
    config.write_text(f'control = "{control}"\n' + vgpio_config.replace("{folder}", str(folder)))
    with open(folder / "vgpio.log", "w") as log:
        process = subprocess.Popen([request.config.getoption("--vgpio-bin"), "serve", "--config", str(config)],
                                   stdout=log, stderr=subprocess.STDOUT)
    daemon = Daemon(control, folder, process)
    deadline = time.monotonic() + 60
    while True:  # waiting for the socket, not judging how long it takes
        if process.poll() is not None:
            raise RuntimeError(f"vgpio serve exited: {daemon.log()}")
        try:
            Client(control).close()
            break
        except VgpioError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    yield daemon
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=60)
    # vgpio's sandbox serves on after denying a call, so say it here.
    denied = [line for line in daemon.log().splitlines() if "sandbox: denied system call" in line]
    if denied:
        raise AssertionError("vgpio's sandbox denied system calls it should have allowed:\n" + "\n".join(denied))


@pytest.fixture
def vgpio(vgpio_daemon: Daemon) -> Iterator[Client]:
    """A client of the session's daemon, closed when the test ends."""
    with Client(vgpio_daemon.control) as client:
        yield client


@pytest.fixture
def vgpio_device(vgpio_daemon: Daemon) -> Iterator[Callable[..., Device]]:
    """``make(lines, name=None)`` makes a fresh device (see Client.create_device);
    every device made goes when the test ends, its outputs to their safe levels."""
    client = Client(vgpio_daemon.control)
    count = [0]

    def make(lines: Sequence[Union[str, Dict[str, Any]]], name: Optional[str] = None, **options: Any) -> Device:
        count[0] += 1
        name = name or f"test{os.getpid()}_{count[0]}"
        return client.create_device(name, str(vgpio_daemon.folder / f"{name}.sock"), lines, **options)

    yield make
    client.close()  # the daemon removes what this connection made


@pytest.fixture
def vgpio_guest_time(request: Any) -> Callable[[str], list]:
    """``args(device_socket)``: the QEMU options for a guest on that device's
    time. Skips the test when no vgpio-clock plugin was given."""
    plugin = request.config.getoption("--vgpio-clock-plugin")
    if not plugin:
        pytest.skip("no vgpio-clock QEMU plugin: give --vgpio-clock-plugin or $VGPIO_CLOCK_PLUGIN")
    return lambda device_socket: guest_time_qemu_args(plugin, device_socket)


@pytest.fixture
def vgpio_guest(request: Any) -> Iterator[Callable[..., QemuGuest]]:
    """``boot(device, append="", machine="q35", **options)``: QEMU booting
    --vgpio-kernel (and --vgpio-initrd) with that device; on the device's
    time when it follows its guest's (skipped then without a plugin). The
    guests end with the test."""
    guests: list = []
    kernel = request.config.getoption("--vgpio-kernel")
    if not kernel:
        pytest.skip("no guest kernel: give --vgpio-kernel or $VGPIO_KERNEL")

    def boot(device: Device, append: str = "", **options: Any) -> QemuGuest:
        plugin = None
        if device.clock == "guest":
            plugin = request.config.getoption("--vgpio-clock-plugin")
            if not plugin:
                pytest.skip("no vgpio-clock QEMU plugin: give --vgpio-clock-plugin or $VGPIO_CLOCK_PLUGIN")
        guest = QemuGuest(device.socket, kernel, request.config.getoption("--vgpio-initrd") or None, append,
                          plugin=plugin, **options)
        guests.append(guest)
        return guest

    yield boot
    for guest in guests:
        guest.close()
