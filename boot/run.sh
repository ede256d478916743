#!/usr/bin/env bash
# Builds the test kernel and boots it under QEMU (TCG, two CPUs); prints the
# guest's serial output. Passes when QEMU's debug-exit status says pass and the
# guest's last line reports 0 failed; a hang, a triple fault or a missing line
# fails. Needs qemu-system-x86 and the x86_64-unknown-none target.
set -euo pipefail
cd "$(dirname "$0")"

rustup target add x86_64-unknown-none >/dev/null 2>&1 || true
cargo build --release
elf=target/x86_64-unknown-none/release/zircon-boot
image=target/zircon-boot.bin
objcopy -O binary "$elf" "$image"

log=target/serial.log
set +e
timeout "${BOOT_TIMEOUT:-150}" qemu-system-x86_64 \
    -accel tcg -cpu max -smp 2 -m 512M -net none -display none -no-reboot \
    -serial stdio -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
    -kernel "$image" </dev/null | tee "$log"
status=${PIPESTATUS[0]}
set -e

last=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1 | tr -d '\r' || true)
if [ "$status" -eq 33 ] && [[ "$last" =~ ^[0-9]+\ passed,\ 0\ failed$ ]]; then
    echo "boot: pass ($last)"
else
    echo "boot: FAIL (QEMU status $status, closing line '${last:-missing}')" >&2
    exit 1
fi
