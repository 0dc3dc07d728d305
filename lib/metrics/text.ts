// SPDX-License-Identifier: MIT
//
// Prometheus's text exposition format (version 0.0.4), written for the
// metric families of lib/metrics: what `/metrics` serves when no prom-client
// Registry is given. Escaping as the format says: in HELP, backslash and
// newline; in label values, also the double quote.

/** The Content-Type of the text format. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export type MetricType = 'counter' | 'gauge';

/** One series: its labels and its value. */
export interface MetricSample {
  labels?: Record<string, string>;
  value: number;
}

/** A metric family as prom-client's `metric.get()` returns it. */
export interface MetricFamily {
  name: string;
  help: string;
  type: MetricType;
  aggregator: 'sum';
  values: MetricSample[];
}

const escapeHelp = (text: string): string => text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
const escapeLabel = (text: string): string => escapeHelp(text).replace(/"/g, '\\"');

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

/** The families as exposition text, each with its HELP and TYPE lines. */
export function renderText(families: readonly MetricFamily[]): string {
  let out = '';
  for (const family of families) {
    out += `# HELP ${family.name} ${escapeHelp(family.help)}\n# TYPE ${family.name} ${family.type}\n`;
    for (const sample of family.values) {
      const labels = Object.entries(sample.labels ?? {});
      const labelText = labels.length === 0 ? '' : `{${labels.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}`;
      out += `${family.name}${labelText} ${formatValue(sample.value)}\n`;
    }
  }
  return out;
}
