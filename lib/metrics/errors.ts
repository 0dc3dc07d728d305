// SPDX-License-Identifier: MIT
//
// The errors of exec-tracer/metrics' server.

/**
 * The `code` of a MetricsError:
 * - `'EOPTIONS'`: an option of serveMetrics() is wrong (the message names it).
 * - `'ELISTEN'`: the address could not be listened on (in use, not local,
 *   not allowed); `cause` is Node's error (`EADDRINUSE`, `EADDRNOTAVAIL`, `EACCES`).
 */
export type MetricsErrorCode = 'EOPTIONS' | 'ELISTEN';

/** A failure of serveMetrics(): a stable `code` and a `hint` that says what to do. */
export class MetricsError extends Error {
  /** What went wrong, stable across versions: branch on this, not on the message. */
  readonly code: MetricsErrorCode;
  /** What to do about it. */
  readonly hint: string;

  constructor(code: MetricsErrorCode, message: string, details: { hint: string; cause?: unknown }) {
    super(`${message}\nhint: ${details.hint}`, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'MetricsError';
    this.code = code;
    this.hint = details.hint;
  }
}
