import { type Column, type SQL, sql } from 'drizzle-orm';
import * as pgSchema from './pg-schema';
import * as sqliteSchema from './sqlite-schema';

/**
 * The tables services query, for the dialect this process stores in. A process opens one database, so the
 * dialect is chosen once (by openDatabase, before any query) and these bindings then name that dialect's
 * tables. Both schemas have the same tables, columns and row types (schema-drift.test.ts and the type
 * checks in pg-schema.ts), so services are written once against the SQLite types.
 */

export * from './schema-values';

export type Dialect = 'sqlite' | 'pg';

type Tables = typeof sqliteSchema.tables;

let activeDialect: Dialect | null = null;

export let sites = sqliteSchema.sites;
export let siteTags = sqliteSchema.siteTags;
export let findingSets = sqliteSchema.findingSets;
export let contextSets = sqliteSchema.contextSets;
export let scans = sqliteSchema.scans;
export let dailySummaries = sqliteSchema.dailySummaries;
export let settings = sqliteSchema.settings;
export let alertSiteStates = sqliteSchema.alertSiteStates;
export let incidents = sqliteSchema.incidents;
export let alertMails = sqliteSchema.alertMails;
export let incidentEvents = sqliteSchema.incidentEvents;
export let alertMailIncidents = sqliteSchema.alertMailIncidents;
export let alertRecipients = sqliteSchema.alertRecipients;
export let alertSubscriptions = sqliteSchema.alertSubscriptions;
export let alertDeliveries = sqliteSchema.alertDeliveries;
export let alertMutes = sqliteSchema.alertMutes;
export let users = sqliteSchema.users;
export let setupTokens = sqliteSchema.setupTokens;
export let invitations = sqliteSchema.invitations;
export let sessions = sqliteSchema.sessions;
export let apiTokens = sqliteSchema.apiTokens;
export let loginThrottles = sqliteSchema.loginThrottles;
export let auditLog = sqliteSchema.auditLog;

/** The dialect chosen for this process; SQLite until a PostgreSQL database is opened. */
export function currentDialect(): Dialect {
  return activeDialect ?? 'sqlite';
}

/** Points the table bindings at one dialect; a process cannot switch once it has chosen. */
export function useDialect(dialect: Dialect): void {
  if (activeDialect === dialect) return;
  if (activeDialect !== null)
    throw new Error(`this process stores in ${activeDialect}; it cannot also open a ${dialect} database`);
  activeDialect = dialect;
  // The PostgreSQL tables have the SQLite tables' row types (checked in pg-schema.ts).
  const tables = (dialect === 'pg' ? pgSchema.tables : sqliteSchema.tables) as unknown as Tables;
  ({
    sites,
    siteTags,
    findingSets,
    contextSets,
    scans,
    dailySummaries,
    settings,
    alertSiteStates,
    incidents,
    alertMails,
    incidentEvents,
    alertMailIncidents,
    alertRecipients,
    alertSubscriptions,
    alertDeliveries,
    alertMutes,
    users,
    setupTokens,
    invitations,
    sessions,
    apiTokens,
    loginThrottles,
    auditLog,
  } = tables);
}

/** A scan waiting for or holding a worker; written as a literal so the partial index applies. */
export function isActiveScan(state: Column): SQL {
  return sql`${state} in ('queued', 'running')`;
}

/** A scan that ended in an error; written as a literal so the partial index on failed scans applies. */
export function isFailedScan(outcome: Column): SQL {
  return sql`${outcome} = 'error'`;
}
