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
