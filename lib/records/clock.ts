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

/**
 * Where a record keeps the clock it was decoded with: what turns its boot-clock
 * times into exact wall-clock nanoseconds (`Date` keeps only milliseconds).
 * Not public: lib/otel reads it, and falls back to `time` for an event it
 * did not decode.
 */
export const RECORD_CLOCK: unique symbol = Symbol('exec-tracer.clock');
