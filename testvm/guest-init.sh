#!/bin/sh
# /init of the test guest: mount the basics, then a shell on the serial
# console that the host-side harness (guestkit.py) drives.
export PATH=/bin:/sbin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mount -t configfs none /sys/kernel/config
mount -t tmpfs tmp /tmp
# vgpio.boot=BASE64 on the kernel command line: a script to start now, in the
# background (its output in /tmp/boot.log). A firmware started so runs with
# nothing typed on the console, so on a device on guest time its whole run,
# from the guest's first instruction, is the same every time.
# shellcheck disable=SC2013 # words, not lines: the arguments
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    vgpio.boot=*) echo "${arg#vgpio.boot=}" | base64 -d > /tmp/boot.sh && sh /tmp/boot.sh > /tmp/boot.log 2>&1 & ;;
  esac
done
# No echo: the harness reads only what commands print.
stty -echo
echo "VGPIO-GUEST-READY $(uname -r)"
# No prompts either: they would land in the middle of command output.
export PS1='' PS2=''
# Not interactive: its output goes through a pipe, so busybox ash does not
# read the console through its line editor. That editor takes the SIGCHLD of
# a background job that ends as end-of-input: the init shell then exited and
# the guest panicked ("Attempted to kill init"), at random, under load more.
# A non-interactive shell exits on a syntax error: the harness sends none.
sh 2>&1 | cat
