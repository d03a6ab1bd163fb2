#!/usr/bin/env bash
# QEMU's plugin API header (qemu-plugin.h), for the vgpio-clock plugin
# (qemu-plugin/): it is in QEMU's source only, never in Debian's binary
# packages. Taken from Debian's own source package of the QEMU installed here
# (apt-get source, through the deb-src entry scripts/setup.sh adds), the same
# version, since the plugin also uses that QEMU's internals. Cached per
# version; never copied into the repository.
#   scripts/qemu-plugin-api.sh OUTDIR     puts there qemu-plugin.h, version
#     (the Debian version of that QEMU: the plugin package depends on exactly
#     it) and built-for (that QEMU as its --version names it: the plugin
#     refuses to load into any other)
set -euo pipefail
out=$1
package=qemu-system-x86
version=$(dpkg-query -W -f='${Version}' "$package" 2> /dev/null) ||
  { echo "qemu-plugin-api: $package is not installed" >&2; exit 1; }
cache=${XDG_CACHE_HOME:-$HOME/.cache}/vgpio/qemu-source-$(echo "$version" | tr -c 'A-Za-z0-9.\n-' _)
if [ ! -f "$cache/qemu-plugin.h" ] || [ ! -f "$cache/built-for" ]; then
  mkdir -p "$cache"
  rm -rf "$cache/download" && mkdir "$cache/download"
  echo "qemu-plugin-api: fetching Debian's source of qemu $version (once; for its plugin API header)"
  # apt checks each file it fetches against the signed Sources index. A
  # mirror may lack the .dsc and Debian's patches (none touches this header):
  # the upstream tarball is enough, and it must be there.
  (cd "$cache/download" && apt-get source --download-only -q "qemu=$version" > fetch.log 2>&1) || true
  orig=$(find "$cache/download" -maxdepth 1 -name "qemu_*.orig.tar.*" | head -n 1)
  if [ -z "$orig" ]; then
    cat "$cache/download/fetch.log" >&2
    echo "qemu-plugin-api: apt-get source qemu=$version brought no upstream tarball (is there a deb-src entry" \
         "for the suite it comes from? scripts/setup.sh adds one for bookworm-backports)" >&2
    exit 1
  fi
  tar -xf "$orig" -C "$cache/download" --wildcards '*/include/qemu/qemu-plugin.h' '*/VERSION'
  mv "$cache/download"/*/include/qemu/qemu-plugin.h "$cache/qemu-plugin.h"
  echo "$version" > "$cache/version"
  # Debian builds QEMU --with-pkgversion="Debian VERSION".
  echo "$(cat "$cache/download"/*/VERSION) (Debian $version)" > "$cache/built-for"
  rm -rf "$cache/download"
fi
mkdir -p "$out"
# Its times kept: a header that did not change does not rebuild the plugin.
cp --preserve=timestamps "$cache/qemu-plugin.h" "$cache/version" "$cache/built-for" "$out/"
