#!/bin/sh
# Rebuilds gnu-newc.cpio.gz, an initramfs made by the host's GNU cpio and gzip, so the parser is
# tested against another implementation's output and not only against its own writer.
# Run from this directory; needs cpio, gzip and mkfifo.
set -eu
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/etc" "$root/run"
printf 'tool binary\n' > "$root/bin/tool"
chmod 755 "$root/bin/tool"
ln "$root/bin/tool" "$root/bin/tool-link"
ln -s tool "$root/bin/sh"
printf 'hello from GNU cpio\n' > "$root/etc/motd"
chmod 640 "$root/etc/motd"
mkfifo "$root/run/fifo"
find "$root" -exec touch -h -d @0 {} +
(cd "$root" && find . | LC_ALL=C sort | cpio --quiet -o -H newc --reproducible --owner=0:0) |
    gzip -9 -n > gnu-newc.cpio.gz
