#!/bin/sh
# A tiny firmware made of libgpiod tools, for the HIL example: the LED blinks
# at 5 Hz, and every press of BTN (a rising edge, debounced) toggles RELAY.
#   usage: blinky.sh CHIP
chip=${1:-gpiochip0}
gpioset -c "$chip" -t 100ms led=1 &   # toggles every 100 ms: a 200 ms period, 5 Hz
relay=0
gpioset -c "$chip" relay=0 &
holder=$!
# --banner: gpiomon's first line says its request is complete; from then on
# no press is missed, and the firmware says it is ready.
gpiomon --banner -c "$chip" -e rising -p 30ms -F pressed btn | while read -r what _; do
  if [ "$what" != pressed ]; then echo "blinky: ready"; continue; fi
  relay=$((1 - relay))
  kill "$holder"
  wait "$holder" 2>/dev/null
  gpioset -c "$chip" relay=$relay &
  holder=$!
done
