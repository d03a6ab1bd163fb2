"""What a HIL user writes once python3-vgpio is installed: no import of the
plugin, no PYTHONPATH; the system's pytest finds the fixtures (entry point
pytest11) and the fixtures find the installed vgpio on PATH."""


def test_a_device_of_my_own(vgpio, vgpio_device):
    dev = vgpio_device(["button", "led"])
    button = dev.line("button")
    assert [line.name for line in dev.lines()] == ["button", "led"]
    button.set(1)
    assert button.value == 1
    assert button.wait_for(1, timeout=5)
    button.set(0)
    assert button.value == 0


def test_the_installed_clock_plugin(vgpio_guest_time):
    """With vgpio-qemu-clock installed, the fixtures use its plugin, and it
    loads into the QEMU apt installed beside it (its version check passes;
    it stops at the clock socket, which nothing serves here)."""
    import subprocess

    args = vgpio_guest_time("/tmp/none.sock")
    assert "/usr/lib/vgpio/vgpio-clock.so,socket=/tmp/none.sock.clock" in args
    ran = subprocess.run(["qemu-system-x86_64", "-machine", "none", "-display", "none", "-nodefaults", *args],
                         capture_output=True, text=True, timeout=300)
    assert ran.returncode != 0
    assert "vgpio-clock: cannot connect to /tmp/none.sock.clock" in ran.stderr, ran.stderr
    assert "built for QEMU" not in ran.stderr, ran.stderr
