#!/usr/bin/env bash
# docs/control.md's command reference is the daemon's command table: the
# part between its markers is what `vgpio ctl commands --markdown` prints.
set -euo pipefail
vgpio=$(realpath "$1")
doc=$2
if ! diff -u <(sed -n '/^<!-- commands -->$/,/^<!-- end of commands -->$/p' "$doc" | sed '1d;$d') \
             <("$vgpio" ctl commands --markdown); then
  echo "FAIL: $doc differs from the command table (lines with - are the file's); to update it, put the output"
  echo "of \`vgpio ctl commands --markdown\` between its <!-- commands --> markers"
  exit 1
fi
echo "docs/control.md matches the command table"
# And `vgpio ctl` has a subcommand for every command of the table.
for cmd in $("$vgpio" ctl commands --markdown | sed -n 's/^### `\(.*\)`$/\1/p'); do
  "$vgpio" ctl "$cmd" --help > /dev/null 2>&1 || { echo "FAIL: vgpio ctl has no subcommand \"$cmd\""; exit 1; }
done
echo "vgpio ctl has a subcommand for each of them"
