import { eq } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '../db';
import { decodeContent, encodeContent } from '../db/codec';
import { contextSets, findingSets } from '../db/schema';
import { type FindingId, isFindingId } from '../scan/catalogue';
import {
  type CheckResult,
  type DjangoDetection,
  type Finding,
  SEVERITIES,
  SEVERITY_RANK,
} from '../scan/types';
import type { SeverityCounts } from './scan-views';

type Writer = Pick<Db, 'select' | 'insert'>;

/** What a scan saw besides its findings; `tls.daysLeft` is left out because it changes every day. */
export interface ScanContext {
  target: string;
  addresses: string[];
  django: DjangoDetection;
  tls: { protocols: string[]; notAfter: string | null; issuer: string | null } | null;
  checks: CheckResult[];
}

const findingSchema = z.object({
  id: z.custom<FindingId>((value) => typeof value === 'string' && isFindingId(value)),
  severity: z.enum(SEVERITIES),
  title: z.string(),
  detail: z.string(),
  evidence: z.string(),
  django: z.object({ setting: z.string().optional(), checkId: z.string().optional() }).optional(),
  fix: z.string(),
});

const contextSchema = z.object({
  target: z.string(),
  addresses: z.array(z.string()),
  django: z.object({ detected: z.boolean(), signals: z.array(z.string()) }),
  tls: z
    .object({
      protocols: z.array(z.string()),
      notAfter: z.string().nullable(),
      issuer: z.string().nullable(),
    })
    .nullable(),
  checks: z.array(
    z.object({ id: z.string(), status: z.enum(['pass', 'fail', 'skip', 'error']), detail: z.string() }),
  ),
});

/** Worst first, then by ID and evidence: one order, so equal findings always make an equal set. */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort(
    (a, b) =>
      SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity] ||
      a.id.localeCompare(b.id) ||
      a.evidence.localeCompare(b.evidence),
  );
}

export function countBySeverity(findings: readonly Finding[]): SeverityCounts {
  const counts: SeverityCounts = { critical: 0, high: 0, medium: 0, low: 0, info: 0 };
  for (const finding of findings) counts[finding.severity] += 1;
  return counts;
}

/** Stores the findings once per distinct content; returns the id every scan with the same findings shares. */
export function saveFindingSet(db: Writer, findings: readonly Finding[]): number {
  const { hash, body } = encodeContent(sortFindings(findings));
  const existing = db
    .select({ id: findingSets.id })
    .from(findingSets)
    .where(eq(findingSets.hash, hash))
    .get();
  if (existing) return existing.id;
  return db
    .insert(findingSets)
    .values({ hash, body: body(), ...countBySeverity(findings) })
    .returning({ id: findingSets.id })
    .get().id;
}

export function saveContextSet(db: Writer, context: ScanContext): number {
  const canonical: ScanContext = { ...context, addresses: [...context.addresses].sort() };
  const { hash, body } = encodeContent(canonical);
  const existing = db
    .select({ id: contextSets.id })
    .from(contextSets)
    .where(eq(contextSets.hash, hash))
    .get();
  if (existing) return existing.id;
  return db.insert(contextSets).values({ hash, body: body() }).returning({ id: contextSets.id }).get().id;
}

export function loadFindings(db: Db, findingSetId: number): Finding[] {
  const row = db
    .select({ body: findingSets.body })
    .from(findingSets)
    .where(eq(findingSets.id, findingSetId))
    .get();
  if (!row) return [];
  return z.array(findingSchema).parse(decodeContent(row.body));
}

export function loadContext(db: Db, contextSetId: number): ScanContext | null {
  const row = db
    .select({ body: contextSets.body })
    .from(contextSets)
    .where(eq(contextSets.id, contextSetId))
    .get();
  return row ? contextSchema.parse(decodeContent(row.body)) : null;
}
