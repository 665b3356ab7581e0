import { describe, expect, it } from 'vitest';
import { formatMetrics, formatValue } from './prometheus';

/** One line of the text format: a comment, or `name{labels} value`. */
const SAMPLE_LINE = /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\["\\n])*",?)*\})? \S+$/;

describe('Prometheus text format', () => {
  it('writes HELP and TYPE once per family, then its samples', () => {
    const text = formatMetrics([
      {
        name: 'vigil_scans_total',
        help: 'Scans finished.',
        type: 'counter',
        samples: [
          { labels: { outcome: 'ok' }, value: 3 },
          { labels: { outcome: 'error' }, value: 0 },
        ],
      },
      { name: 'vigil_scan_queue_depth', help: 'Waiting.', type: 'gauge', samples: [{ value: 7 }] },
    ]);
    expect(text).toBe(
      [
        '# HELP vigil_scans_total Scans finished.',
        '# TYPE vigil_scans_total counter',
        'vigil_scans_total{outcome="ok"} 3',
        'vigil_scans_total{outcome="error"} 0',
        '# HELP vigil_scan_queue_depth Waiting.',
        '# TYPE vigil_scan_queue_depth gauge',
        'vigil_scan_queue_depth 7',
        '',
      ].join('\n'),
    );
  });

  it('writes histograms with cumulative buckets, +Inf, _sum and _count', () => {
    const text = formatMetrics([
      {
        name: 'vigil_scan_duration_seconds',
        help: 'Scan time.',
        type: 'histogram',
        buckets: [0.5, 1, 5],
        series: [{ counts: [2, 0, 3], overflow: 1, sum: 42.25 }],
      },
    ]);
    expect(text.split('\n')).toEqual([
      '# HELP vigil_scan_duration_seconds Scan time.',
      '# TYPE vigil_scan_duration_seconds histogram',
      'vigil_scan_duration_seconds_bucket{le="0.5"} 2',
      'vigil_scan_duration_seconds_bucket{le="1"} 2',
      'vigil_scan_duration_seconds_bucket{le="5"} 5',
      'vigil_scan_duration_seconds_bucket{le="+Inf"} 6',
      'vigil_scan_duration_seconds_sum 42.25',
      'vigil_scan_duration_seconds_count 6',
      '',
    ]);
  });

  it('escapes help text and label values so a hostile value cannot forge a line', () => {
    const text = formatMetrics([
      {
        name: 'vigil_build_info',
        help: 'Back\\slash and\nnew line.',
        type: 'gauge',
        samples: [{ labels: { version: '1.0"} 1\nvigil_fake 9' }, value: 1 }],
      },
    ]);
    const lines = text.trimEnd().split('\n');
    expect(lines).toEqual([
      '# HELP vigil_build_info Back\\\\slash and\\nnew line.',
      '# TYPE vigil_build_info gauge',
      'vigil_build_info{version="1.0\\"} 1\\nvigil_fake 9"} 1',
    ]);
    expect(lines[2]).toMatch(SAMPLE_LINE);
  });

  it('refuses names Prometheus would reject', () => {
    expect(() => formatMetrics([{ name: 'vigil-scans', help: 'x', type: 'gauge', samples: [] }])).toThrow(
      /metric name/,
    );
    expect(() =>
      formatMetrics([
        { name: 'vigil_x', help: 'x', type: 'gauge', samples: [{ labels: { 'a-b': '1' }, value: 1 }] },
      ]),
    ).toThrow(/label name/);
  });

  it('spells special values the way the format does', () => {
    expect(
      [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0.1, 12].map(formatValue),
    ).toEqual(['NaN', '+Inf', '-Inf', '0.1', '12']);
  });
});
