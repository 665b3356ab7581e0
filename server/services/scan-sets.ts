import { eq } from 'drizzle-orm';
import { z } from 'zod';
import type { DbOrTx } from '../db';
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

/**
 * Stores the findings once per distinct content; returns the id every scan with the same findings shares.
 * Two writers saving the same new set at once both get its one id: the unique hash decides, not a read.
 */
export async function saveFindingSet(db: DbOrTx, findings: readonly Finding[]): Promise<number> {
  const { hash, body } = encodeContent(sortFindings(findings));
  const [existing] = await db
    .select({ id: findingSets.id })
    .from(findingSets)
    .where(eq(findingSets.hash, hash))
    .limit(1);
  if (existing) return existing.id;
  const [inserted] = await db
    .insert(findingSets)
    .values({ hash, body: body(), ...countBySeverity(findings) })
    .onConflictDoNothing({ target: findingSets.hash })
    .returning({ id: findingSets.id });
  return inserted?.id ?? (await setIdByHash(db, findingSets, hash));
}

export async function saveContextSet(db: DbOrTx, context: ScanContext): Promise<number> {
  const canonical: ScanContext = { ...context, addresses: [...context.addresses].sort() };
  const { hash, body } = encodeContent(canonical);
  const [existing] = await db
    .select({ id: contextSets.id })
    .from(contextSets)
    .where(eq(contextSets.hash, hash))
    .limit(1);
  if (existing) return existing.id;
  const [inserted] = await db
    .insert(contextSets)
    .values({ hash, body: body() })
    .onConflictDoNothing({ target: contextSets.hash })
    .returning({ id: contextSets.id });
  return inserted?.id ?? (await setIdByHash(db, contextSets, hash));
}

/** The id of a set another writer inserted between our read and our insert. */
async function setIdByHash(
  db: DbOrTx,
  table: typeof findingSets | typeof contextSets,
  hash: string,
): Promise<number> {
  const [row] = await db.select({ id: table.id }).from(table).where(eq(table.hash, hash)).limit(1);
  if (!row) throw new Error(`content set ${hash} vanished while it was being saved`);
  return row.id;
}

export async function loadFindings(db: DbOrTx, findingSetId: number): Promise<Finding[]> {
  const [row] = await db
    .select({ body: findingSets.body })
    .from(findingSets)
    .where(eq(findingSets.id, findingSetId))
    .limit(1);
  if (!row) return [];
  return z.array(findingSchema).parse(decodeContent(row.body));
}

export async function loadContext(db: DbOrTx, contextSetId: number): Promise<ScanContext | null> {
  const [row] = await db
    .select({ body: contextSets.body })
    .from(contextSets)
    .where(eq(contextSets.id, contextSetId))
    .limit(1);
  return row ? contextSchema.parse(decodeContent(row.body)) : null;
}
