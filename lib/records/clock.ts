// SPDX-License-Identifier: MIT
//
// The kernel's boot clock as wall-clock time. A leaf: every record and the
// process table import it, and it imports nothing of lib/, so the records
// have no import cycle through it.

/** Converts the kernel's boot clock to wall-clock time. */
export interface Clock {
  /** Epoch ns minus boot-clock ns, taken once when tracing starts. */
  epochOffsetNs: bigint;
}

/** A boot-clock time as wall-clock time (a new Date each call: Dates are mutable). */
export function wallClock(bootNs: bigint, clock: Clock): Date {
  return new Date(Number((bootNs + clock.epochOffsetNs) / 1_000_000n));
}
