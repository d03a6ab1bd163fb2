#!/bin/sh
# A tiny firmware made of libgpiod tools, for the HIL example: the LED blinks
# at 5 Hz, and every press of BTN (a rising edge, debounced) toggles RELAY.
#   usage: blinky.sh CHIP
chip=${1:-gpiochip0}
gpioset -c "$chip" -t 100ms led=1 &   # toggles every 100 ms: a 200 ms period, 5 Hz
relay=0
gpioset -c "$chip" relay=0 &
holder=$!
gpiomon -c "$chip" -e rising -p 30ms -F pressed btn | while read -r _; do
  relay=$((1 - relay))
  kill "$holder"
  wait "$holder" 2>/dev/null
  gpioset -c "$chip" relay=$relay &
  holder=$!
done
