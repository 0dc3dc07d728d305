// SPDX-License-Identifier: MIT
//
// Secrets in command lines and environments (options.redact).
// lib/options.ts compiles the option into a Redactor; the records apply it
// to argv and env as events are read, and lib/records/seed.ts to the seeded
// table.
import { isUtf8 } from 'node:buffer';

// Each pattern runs over each argument (and each NAME=value entry of a
// captured environment) on its own. Where a pattern has a capturing group,
// what the group matched becomes `***` (so `--password=***` keeps the
// flag); without one, the whole match does. Every match in an argument is
// replaced, not only the first.

/** What a secret turns into. */
export const REDACTED = '***';

/**
 * The documented default set (used only when asked for: `redact: true`).
 * Each is deliberately broad: redacting a harmless `-pv` is better than
 * printing a password.
 */
export const DEFAULT_REDACTIONS: readonly RegExp[] = Object.freeze([
  // --password=…, -token:…, --api-key=…, --client-secret=… (the value joined to the flag)
  /^--?[\w-]*(?:password|passwd|pwd|token|secret|api[-_]?key|access[-_]?key|private[-_]?key|credentials?)[=:](.+)$/i,
  // mysql/mariadb -pSECRET (no space: the secret is in the same argument)
  /^-p(.+)$/,
  // curl -H 'Authorization: Bearer …', and the proxy's
  /^(?:proxy-)?authorization:\s*(.+)$/i,
  // user:password@ in a URL
  /^[a-z][a-z0-9+.-]*:\/\/[^/:@\s]*:([^@/\s]+)@/i,
  // AWS_SECRET_ACCESS_KEY=…, GITHUB_TOKEN=…, DB_PASSWORD=… (environment entries)
  /^[A-Za-z0-9_]*(?:PASSWORD|PASSWD|SECRET|TOKEN|API_KEY|ACCESS_KEY|PRIVATE_KEY|CREDENTIALS?)[A-Za-z0-9_]*=(.+)$/i,
  // AWS access key ids, wherever they appear
  /\b((?:AKIA|ASIA)[A-Z0-9]{16})\b/,
]);

/** Applies redaction patterns to strings and to raw bytes. */
export class Redactor {
  readonly #patterns: RegExp[];

  constructor(patterns: readonly RegExp[]) {
    // Global copies: every match is found, and the caller's RegExps keep
    // their own lastIndex untouched. With indices (d): where the first
    // group sits in the text, not a guess from its characters.
    this.#patterns = patterns.map((p) => new RegExp(p.source, p.flags.replace(/[dgy]/g, '') + 'dg'));
  }

  /** The text with every secret replaced; the same string when nothing matched. */
  text(text: string): string {
    let out = text;
    for (const pattern of this.#patterns) {
      let redacted = '';
      let copied = 0;
      for (const match of out.matchAll(pattern)) {
        // The first group, or the whole match when it has none (or matched nothing).
        const group = match[1] === undefined || match[1] === '' ? undefined : match.indices![1];
        const [from, to] = group ?? [match.index!, match.index! + match[0].length];
        redacted += `${out.slice(copied, from)}${REDACTED}`;
        copied = to;
      }
      if (redacted !== '') out = redacted + out.slice(copied); // else nothing matched: the same string
    }
    return out;
  }

  /**
   * The bytes with every secret replaced: matched as UTF-8 when they are
   * valid UTF-8, otherwise as latin1 (one character per byte, so patterns
   * written in ASCII match and no byte is lost). The same Buffer when
   * nothing matched.
   */
  bytes(raw: Buffer): Buffer {
    const encoding: BufferEncoding = isUtf8(raw) ? 'utf8' : 'latin1';
    const text = raw.toString(encoding);
    const redacted = this.text(text);
    return redacted === text ? raw : Buffer.from(redacted, encoding);
  }
}

