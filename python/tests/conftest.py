"""The client's own tests run against a real daemon, with the plugin's fixtures."""

pytest_plugins = ["vgpio.pytest_plugin"]
