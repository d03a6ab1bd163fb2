"""A test client for vgpio: drive simulated GPIO lines, wire devices, record
waveforms and assert on timing, over the daemon's control socket.

Standard library only. See ``Client`` to start, and ``vgpio.pytest_plugin``
for the pytest fixtures.
"""

from .client import Change, Client, Device, Line, VgpioError
from .expect import expect_duty
from .recording import Recording

__all__ = ["Change", "Client", "Device", "Line", "Recording", "VgpioError", "expect_duty"]
