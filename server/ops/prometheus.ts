/**
 * Prometheus text exposition format 0.0.4: one `# HELP` and one `# TYPE` line per family, then its
 * samples. Pure, so the format is tested without a server.
 */

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export type Labels = Readonly<Record<string, string>>;

export interface Sample {
  labels?: Labels;
  value: number;
}

export interface HistogramSeries {
  labels?: Labels;
  /** Observations at or below each upper bound of the family's `buckets` (not cumulative). */
  counts: readonly number[];
  /** Observations above the last bound. */
  overflow: number;
  sum: number;
}

export type MetricFamily =
  | { name: string; help: string; type: 'counter' | 'gauge'; samples: readonly Sample[] }
  | {
      name: string;
      help: string;
      type: 'histogram';
      /** Upper bounds, ascending; `+Inf` is added. */
      buckets: readonly number[];
      series: readonly HistogramSeries[];
    };

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function escapeHelp(text: string): string {
  return text.replaceAll('\\', '\\\\').replaceAll('\n', '\\n');
}

function escapeLabelValue(value: string): string {
  return value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
}

export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

function formatLabels(labels: Labels | undefined, extra?: readonly [string, string]): string {
  const pairs = Object.entries(labels ?? {});
  if (extra) pairs.push([extra[0], extra[1]]);
  if (pairs.length === 0) return '';
  for (const [name] of pairs) if (!LABEL_NAME.test(name)) throw new Error(`Invalid label name "${name}"`);
  return `{${pairs.map(([name, value]) => `${name}="${escapeLabelValue(value)}"`).join(',')}}`;
}

function histogramLines(name: string, buckets: readonly number[], series: HistogramSeries): string[] {
  if (series.counts.length !== buckets.length) throw new Error(`${name}: one count per bucket expected`);
  const lines: string[] = [];
  let cumulative = 0;
  buckets.forEach((bound, index) => {
    cumulative += series.counts[index] ?? 0;
    lines.push(`${name}_bucket${formatLabels(series.labels, ['le', formatValue(bound)])} ${cumulative}`);
  });
  const total = cumulative + series.overflow;
  lines.push(`${name}_bucket${formatLabels(series.labels, ['le', '+Inf'])} ${total}`);
  lines.push(`${name}_sum${formatLabels(series.labels)} ${formatValue(series.sum)}`);
  lines.push(`${name}_count${formatLabels(series.labels)} ${total}`);
  return lines;
}

/** The whole exposition: families in the order given, ending with a newline. */
export function formatMetrics(families: readonly MetricFamily[]): string {
  const lines: string[] = [];
  for (const family of families) {
    if (!METRIC_NAME.test(family.name)) throw new Error(`Invalid metric name "${family.name}"`);
    lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`);
    lines.push(`# TYPE ${family.name} ${family.type}`);
    if (family.type === 'histogram') {
      for (const series of family.series) lines.push(...histogramLines(family.name, family.buckets, series));
    } else {
      for (const sample of family.samples)
        lines.push(`${family.name}${formatLabels(sample.labels)} ${formatValue(sample.value)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
