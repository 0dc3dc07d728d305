#!/bin/busybox sh
# SPDX-License-Identifier: MIT
#
# /init of a kernel-matrix guest (test/kernels/run.ts builds its initramfs).
# Mounts what a Linux system has, runs the real-kernel suites named in
# /etc/exec-tracer-guest.env as root with CI=true (so none may skip), prints
# vitest's JSON report on the console between two markers, and powers off.
# The host reads the console; kernel messages stay on it, so an oops or a
# BPF warning shows in the log beside the test output.
bb=/bin/busybox
export PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb CI=true

$bb mount -t proc proc /proc
$bb mount -t sysfs sysfs /sys
$bb mount -t devtmpfs devtmpfs /dev
$bb mkdir -p /dev/pts /dev/shm
$bb mount -t devpts devpts /dev/pts
$bb mount -t tmpfs tmpfs /dev/shm
# What udev or systemd add to a devtmpfs. Debian 11's 5.10 needs /dev/fd:
# an execveat() through a file descriptor fails with ENOENT without it.
$bb ln -s /proc/self/fd /dev/fd
$bb ln -s /proc/self/fd/0 /dev/stdin
$bb ln -s /proc/self/fd/1 /dev/stdout
$bb ln -s /proc/self/fd/2 /dev/stderr
$bb mount -t tmpfs tmpfs /tmp
$bb mount -t tmpfs tmpfs /run
# cgroup v2, as systemd mounts it: bpf_get_current_cgroup_id() answers for it.
$bb mount -t cgroup2 cgroup2 /sys/fs/cgroup
# Modules the tests need that Debian builds as modules (fetch-kernel.sh).
for ko in /exec-tracer-modules/*.ko; do
  [ -e "$ko" ] && $bb insmod "$ko"
done
# vitest's workers reach their parent through localhost.
$bb ip link set lo up
$bb hostname exec-tracer-guest

# FILES (the test files) and the EXEC_TRACER_* settings.
. /etc/exec-tracer-guest.env
echo "exec-tracer-guest: Linux $(uname -r) $(uname -m), $(nproc) CPU(s), up $(cut -d' ' -f1 /proc/uptime) s"

cd /project
# One worker process for all the files: each new one costs seconds here.
# shellcheck disable=SC2086 # FILES is a list
node node_modules/vitest/vitest.mjs run $FILES --poolOptions.forks.singleFork --configLoader native \
  --reporter=default --reporter=json --outputFile=/tmp/report.json \
  --testTimeout="$EXEC_TRACER_GUEST_TEST_TIMEOUT_MS" --hookTimeout="$EXEC_TRACER_GUEST_TEST_TIMEOUT_MS"
rc=$?

# Kernel messages printed in the middle would corrupt the report.
$bb dmesg -n 1
echo
echo "@@exec-tracer-report-begin rc=$rc uptime=$(cut -d' ' -f1 /proc/uptime)@@"
[ -f /tmp/report.json ] && $bb base64 /tmp/report.json
echo "@@exec-tracer-report-end@@"
$bb sync
$bb poweroff -f
