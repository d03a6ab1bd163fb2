#!/usr/bin/env bash
# The clients stay apart from the daemon: no source in src/client or
# src/panel includes a daemon header (only base/, client/, panel/, the
# protocol's table and the virtio-gpio names), and vgpio-panel, the program
# that faces the network, has none of the daemon's code in it.
# usage: client_apart.sh SOURCE_DIR VGPIO_PANEL
set -euo pipefail
src=$1
panel=$2
allowed='#include "(base/|client/|panel/|control/commands\.h|gpio/protocol\.h)'
bad=$(grep -HnE '^#include "' "$src"/src/client/* "$src"/src/panel/* | grep -vE ":[0-9]+:$allowed" || true)
[ -z "$bad" ] || { echo "FAIL: a client source includes a daemon header:"; echo "$bad"; exit 1; }
echo "src/client and src/panel include no daemon header"
daemon='vgpio::(vhost::|gpio::GpioDevice|virtio::|lines::|sim::|service::|daemon::|control::ControlServer)'
found=$(nm -C --defined-only "$panel" | grep -E "$daemon" | head -5 || true)
[ -z "$found" ] || { echo "FAIL: vgpio-panel has the daemon's code in it:"; echo "$found"; exit 1; }
echo "vgpio-panel has none of the daemon's code"
