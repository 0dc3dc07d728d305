// SPDX-License-Identifier: MIT
//
// An OpenTelemetry log exporter for the bridge's tests: a Collector that
// stopped answering, whose exports wait until released.
import type { LogRecordExporter, ReadableLogRecord } from '@opentelemetry/sdk-logs';

/** Keeps every record it is handed; holds each export's answer until release(). */
export class StalledExporter implements LogRecordExporter {
  /** Every record export() was handed, in order. */
  readonly received: ReadableLogRecord[] = [];
  readonly #held: (() => void)[] = [];
  #stalled = true;

  export(logs: ReadableLogRecord[], done: (result: { code: number }) => void): void {
    this.received.push(...logs);
    if (this.#stalled) this.#held.push(() => done({ code: 0 }));
    else done({ code: 0 });
  }

  /** Answers the held exports (success), and every later one at once. */
  release(): void {
    this.#stalled = false;
    for (const done of this.#held.splice(0)) done();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
}
