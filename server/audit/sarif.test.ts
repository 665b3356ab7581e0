import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { auditProject } from './audit';
import { SARIF_SCHEMA, toSarif } from './sarif';

const text = z.object({ text: z.string().min(1), markdown: z.string().optional() }).strict();
const level = z.enum(['none', 'note', 'warning', 'error']);

/** The parts of the SARIF 2.1.0 schema (and GitHub's upload rules) that a result file must meet. */
const sarifLog = z
  .object({
    $schema: z.string().url(),
    version: z.literal('2.1.0'),
    runs: z
      .array(
        z.object({
          tool: z.object({
            driver: z.object({
              name: z.string().min(1),
              rules: z.array(
                z.object({
                  id: z.string().min(1),
                  name: z.string().regex(/^[A-Za-z][A-Za-z0-9]*$/),
                  shortDescription: text,
                  fullDescription: text,
                  help: text,
                  defaultConfiguration: z.object({ level }),
                  properties: z.object({
                    'security-severity': z.string().regex(/^\d+(\.\d+)?$/),
                    tags: z.array(z.string()),
                    precision: z.enum(['very-high', 'high', 'medium', 'low']),
                  }),
                }),
              ),
            }),
          }),
          originalUriBaseIds: z.record(z.string(), z.object({ uri: z.string().regex(/^file:\/\/.*\/$/) })),
          invocations: z.array(
            z.object({
              executionSuccessful: z.boolean(),
              toolExecutionNotifications: z.array(z.object({ level, message: text })),
            }),
          ),
          results: z.array(
            z.object({
              ruleId: z.string(),
              ruleIndex: z.number().int().nonnegative(),
              level,
              message: text,
              locations: z
                .array(
                  z.object({
                    physicalLocation: z.object({
                      artifactLocation: z.object({
                        uri: z
                          .string()
                          .refine(
                            (uri) => !uri.startsWith('/') && !uri.includes('\\') && !/^[a-z]+:/i.test(uri),
                          ),
                        uriBaseId: z.string(),
                      }),
                      region: z.object({
                        startLine: z.number().int().min(1),
                        startColumn: z.number().int().min(1),
                        snippet: text,
                      }),
                    }),
                  }),
                )
                .length(1),
            }),
          ),
        }),
      )
      .length(1),
  })
  .strict();

describe('toSarif', () => {
  it('produces a structurally valid SARIF 2.1.0 log for the insecure corpus', async () => {
    const report = await auditProject(path.join(import.meta.dirname, 'testdata', 'insecure'));
    const log = JSON.parse(JSON.stringify(toSarif(report)));
    const parsed = sarifLog.safeParse(log);
    expect(parsed.error?.issues ?? []).toEqual([]);
    expect(log.$schema).toBe(SARIF_SCHEMA);

    const run = parsed.data!.runs[0]!;
    const rules = run.tool.driver.rules;
    expect(run.tool.driver.name).toBe('vigil');
    expect(rules.map((rule) => rule.id)).toEqual([...new Set(report.findings.map((f) => f.id))].sort());
    expect(run.results).toHaveLength(report.findings.length);
    for (const result of run.results) {
      expect(rules[result.ruleIndex]?.id).toBe(result.ruleId);
      expect(result.level).toBe(rules[result.ruleIndex]?.defaultConfiguration.level);
    }
  });

  it('maps severities to levels and GitHub security-severity, and locations to relative URIs', async () => {
    const report = await auditProject(path.join(import.meta.dirname, 'testdata', 'insecure'));
    const run = toSarif(report).runs[0]!;
    const rule = (id: string) => run.tool.driver.rules.find((candidate) => candidate.id === id)!;
    expect(rule('settings.secret-key').defaultConfiguration.level).toBe('error');
    expect(rule('settings.secret-key').properties['security-severity']).toBe('9.5');
    expect(rule('code.raw-sql').defaultConfiguration.level).toBe('error');
    expect(rule('code.raw-sql').properties['security-severity']).toBe('8.0');
    expect(rule('code.template-safe').defaultConfiguration.level).toBe('warning');
    expect(rule('code.idor').defaultConfiguration.level).toBe('note');
    expect(rule('code.idor').properties.precision).toBe('low');
    expect(rule('code.raw-sql').help.text).toContain('cursor.execute("SELECT … WHERE id = %s", [user_id])');

    const template = run.results.find((result) => result.ruleId === 'code.template-safe')!;
    expect(template.locations[0]!.physicalLocation).toEqual({
      artifactLocation: { uri: 'orders/templates/orders/detail.html', uriBaseId: '%SRCROOT%' },
      region: {
        startLine: 4,
        startColumn: 19,
        snippet: { text: '<div class="note">{{ order.note|safe }}</div>' },
      },
    });
  });

  it('percent-encodes paths that are not valid URI characters', () => {
    const log = toSarif({
      root: '/srv/my shop',
      auditedAt: '2026-01-01T00:00:00.000Z',
      durationMs: 1,
      filesScanned: 1,
      notes: [{ kind: 'skipped', file: 'big file.py', message: 'larger than 1 MiB' }],
      findings: [
        {
          id: 'code.csrf-exempt',
          severity: 'medium',
          title: 't',
          detail: 'd',
          evidence: 'e',
          fix: 'f',
          location: { file: 'my app/views #1.py', line: 2, column: 1 },
          excerpt: '@csrf_exempt',
        },
      ],
    });
    const run = log.runs[0]!;
    expect(run.results[0]!.locations[0]!.physicalLocation.artifactLocation.uri).toBe(
      'my%20app/views%20%231.py',
    );
    expect(run.originalUriBaseIds['%SRCROOT%']!.uri).toBe('file:///srv/my%20shop/');
    expect(run.invocations[0]!.toolExecutionNotifications).toEqual([
      { level: 'note', message: { text: 'big file.py: larger than 1 MiB' } },
    ]);
  });
});
