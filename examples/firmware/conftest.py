"""Fixtures for the firmware example: the vgpio plugin's daemon and devices,
plus a test guest (QEMU, the Linux gpio-virtio driver, libgpiod tools) that
runs blinky.sh against them. The guest kit is this repository's testvm/."""

import base64
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "testvm"))

from guestkit import Guest  # noqa: E402

pytest_plugins = ["vgpio.pytest_plugin"]


@pytest.fixture
def guest():
    """``boot(sockets, qemu_args=())`` starts a guest with one virtio-gpio
    device per socket (and those QEMU options: ``vgpio_guest_time(socket)``'s
    put it on a device's time). ``options``: the guest kit's, e.g.
    ``boot_script`` (run at boot) and ``wait_ready``."""
    guests = []

    def boot(sockets, qemu_args=(), **options):
        g = Guest(sockets, extra_args=qemu_args, **options)
        guests.append(g)
        return g

    yield boot
    for g in guests:
        g.close()


def install(guest, name):
    """Copies a file of this folder into the guest's /tmp."""
    with open(os.path.join(HERE, name), "rb") as f:
        data = base64.b64encode(f.read()).decode()
    guest.must(f"echo {data} | base64 -d > /tmp/{name} && chmod +x /tmp/{name}")
    return f"/tmp/{name}"


@pytest.fixture
def artifacts():
    """Where a run leaves files for people to look at ($VGPIO_ARTIFACTS, else a temp folder)."""
    folder = os.environ.get("VGPIO_ARTIFACTS") or os.path.join(HERE, "artifacts")
    os.makedirs(folder, exist_ok=True)
    return folder
