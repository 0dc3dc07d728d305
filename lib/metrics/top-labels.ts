// SPDX-License-Identifier: MIT
//
// A counter by label (a comm, a container id) with a bounded number of
// series: the busiest labels have their own, every other exec is counted
// under `other`. A host that runs random names (a fuzzer, `mktemp` scripts)
// would otherwise give Prometheus a new series per exec.
//
// Which labels are the busiest is judged by a decayed count (a half-life of
// minutes), so a label busy an hour ago gives way to one busy now. Labels
// change places only when the series are collected (a scrape), and only
// when the newcomer is clearly busier (twice the score), so series do not
// flap. At every moment the series sum to the execs counted: a series that
// leaves adds its count to `other`, and one that enters counts from then.
// Each series is monotonic while it exists, as a Prometheus counter must be.

/** The label under which execs of the labels without their own series are counted. */
export const OTHER_LABEL = 'other';

/** Weights are renormalised past this: 40 half-lives (under 7 hours at the default), far from a double's limits. */
const MAX_WEIGHT = 2 ** 40;
/** A candidate replaces a series when its score is this many times the series'. */
const HYSTERESIS = 2;

interface Entry {
  /** Execs counted in this series since it got it (candidates: 0). */
  value: number;
  /** Forward-decayed count: each exec adds 2^((t - t0) / halfLife). */
  score: number;
}

export interface TopLabelsOptions {
  /** Labels with a series of their own, besides `other`. */
  maxSeries: number;
  /** How fast an exec's weight in the ranking halves, ms. Default 10 minutes. */
  halfLifeMs?: number;
  /** Labels tracked for promotion without a series. Default 4 × maxSeries (at least 64). */
  maxCandidates?: number;
  /** The clock, ms (tests). */
  now?: () => number;
}

export class TopLabels {
  readonly #maxSeries: number;
  readonly #maxCandidates: number;
  readonly #halfLifeMs: number;
  readonly #now: () => number;
  readonly #series = new Map<string, Entry>();
  readonly #candidates = new Map<string, Entry>();
  #other = 0;
  #t0: number;

  constructor(options: TopLabelsOptions) {
    this.#maxSeries = options.maxSeries;
    this.#maxCandidates = options.maxCandidates ?? Math.max(64, 4 * options.maxSeries);
    this.#halfLifeMs = options.halfLifeMs ?? 600_000;
    this.#now = options.now ?? Date.now;
    this.#t0 = this.#now();
  }

  /** Counts one exec of `label`. */
  count(label: string): void {
    let weight = 2 ** ((this.#now() - this.#t0) / this.#halfLifeMs);
    if (weight > MAX_WEIGHT) {
      this.#renormalise(weight);
      weight = 1;
    }
    const series = this.#series.get(label);
    if (series !== undefined) {
      series.value++;
      series.score += weight;
      return;
    }
    this.#other++;
    if (this.#series.size < this.#maxSeries) {
      // Room: the label gets its series now, and this exec is its first.
      this.#other--;
      this.#series.set(label, { value: 1, score: weight });
      return;
    }
    const candidate = this.#candidates.get(label);
    if (candidate !== undefined) candidate.score += weight;
    else {
      this.#candidates.set(label, { value: 0, score: weight });
      if (this.#candidates.size > 2 * this.#maxCandidates) this.#prune();
    }
  }

  /**
   * The series, `other` last (always present), after giving the series of
   * the least busy labels to clearly busier candidates.
   */
  collect(): [label: string, value: number][] {
    this.#rebalance();
    const out: [string, number][] = [];
    for (const [label, entry] of this.#series) out.push([label, entry.value]);
    out.push([OTHER_LABEL, this.#other]);
    return out;
  }

  /** Labels with a series of their own now (not counting `other`). */
  get seriesCount(): number {
    return this.#series.size;
  }

  #rebalance(): void {
    if (this.#candidates.size === 0) return;
    const candidates = [...this.#candidates].sort((a, b) => b[1].score - a[1].score);
    const series = [...this.#series].sort((a, b) => a[1].score - b[1].score);
    let s = 0;
    for (const [label, entry] of candidates) {
      const weakest = series[s];
      if (weakest === undefined || entry.score <= HYSTERESIS * weakest[1].score) break;
      s++;
      const [oldLabel, old] = weakest;
      // The old series' count joins `other`; the new one counts from now.
      this.#other += old.value;
      this.#series.delete(oldLabel);
      this.#candidates.set(oldLabel, { value: 0, score: old.score });
      this.#candidates.delete(label);
      this.#series.set(label, { value: 0, score: entry.score });
    }
    this.#prune();
  }

  /** Keeps the busiest maxCandidates candidates: the others' execs stay counted in `other`. */
  #prune(): void {
    if (this.#candidates.size <= this.#maxCandidates) return;
    const keep = [...this.#candidates].sort((a, b) => b[1].score - a[1].score).slice(0, this.#maxCandidates);
    this.#candidates.clear();
    for (const [label, entry] of keep) this.#candidates.set(label, entry);
  }

  #renormalise(weight: number): void {
    for (const entry of this.#series.values()) entry.score /= weight;
    for (const entry of this.#candidates.values()) entry.score /= weight;
    this.#t0 = this.#now();
  }
}
