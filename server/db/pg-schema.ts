import { type InferInsertModel, type InferSelectModel, type SQL, sql } from 'drizzle-orm';
import {
  type AnyPgColumn,
  boolean,
  customType,
  index,
  integer,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import type { Grade } from '../scan/types';
import { SEVERITIES } from '../scan/types';
import {
  DELIVERY_STATUSES,
  INCIDENT_EVENT_TYPES,
  INCIDENT_STATUSES,
  MAIL_KINDS,
  RECIPIENT_MODES,
  SCAN_OUTCOMES,
  SCAN_STATES,
  SCAN_TRIGGERS,
  TOKEN_SCOPES,
  USER_ROLES,
} from './schema-values';
import type { tables as sqliteTables } from './sqlite-schema';

/**
 * Vigil's storage on PostgreSQL, the same tables as server/db/sqlite-schema.ts (see the comments there for
 * what each column holds); drizzle.pg.config.ts generates migrations/pg/ from it. The row types are the
 * SQLite ones exactly (checked at the end of this file), so services written against SQLite run unchanged.
 */

/** SQLite's millisecond timestamps: timestamptz(3) keeps the same precision and reads back as a Date. */
function timestampMs<TName extends string>(name: TName) {
  return timestamp(name, { withTimezone: true, mode: 'date', precision: 3 });
}

/** SQLite's `blob({ mode: 'buffer' })`; node-postgres already reads and writes bytea as a Buffer. */
const bytea = customType<{ data: Buffer; driverData: Buffer }>({
  dataType: () => 'bytea',
});

/** A scan waiting for or holding a worker; written as a literal so the partial index applies. */
function isActiveScan(state: AnyPgColumn): SQL {
  return sql`${state} in ('queued', 'running')`;
}

export const sites = pgTable(
  'sites',
  {
    id: integer('id').primaryKey().generatedByDefaultAsIdentity(),
    host: text('host').notNull(),
    label: text('label').notNull().default(''),
    intervalMinutes: integer('interval_minutes').notNull(),
    enabled: boolean('enabled').notNull().default(true),
    allowPrivate: boolean('allow_private').notNull().default(false),
    sourcePath: text('source_path'),
    region: text('region'),
    nextScanAt: timestampMs('next_scan_at').notNull(),
    lastScanId: integer('last_scan_id').references((): AnyPgColumn => scans.id, { onDelete: 'set null' }),
    createdAt: timestampMs('created_at').notNull(),
    updatedAt: timestampMs('updated_at').notNull(),
  },
  (table) => [
    uniqueIndex('sites_host_unique').on(table.host),
    index('sites_due_idx').on(table.enabled, table.nextScanAt),
    index('sites_last_scan_idx').on(table.lastScanId),
  ],
);

export const siteTags = pgTable(
  'site_tags',
  {
    siteId: integer('site_id')
      .notNull()
      .references(() => sites.id, { onDelete: 'cascade' }),
    tag: text('tag').notNull(),
  },
  (table) => [primaryKey({ columns: [table.siteId, table.tag] }), index('site_tags_tag_idx').on(table.tag)],
);

export const findingSets = pgTable(
  'finding_sets',
  {
    id: integer('id').primaryKey().generatedByDefaultAsIdentity(),
    hash: text('hash').notNull(),
    body: bytea('body').notNull(),
    critical: integer('critical').notNull(),
    high: integer('high').notNull(),
    medium: integer('medium').notNull(),
    low: integer('low').notNull(),
    info: integer('info').notNull(),
  },
  (table) => [uniqueIndex('finding_sets_hash_unique').on(table.hash)],
);

export const contextSets = pgTable(
  'context_sets',
  {
    id: integer('id').primaryKey().generatedByDefaultAsIdentity(),
    hash: text('hash').notNull(),
    body: bytea('body').notNull(),
  },
  (table) => [uniqueIndex('context_sets_hash_unique').on(table.hash)],
);

export const scans = pgTable(
  'scans',
  {
    id: integer('id').primaryKey().generatedByDefaultAsIdentity(),
    siteId: integer('site_id')
      .notNull()
      .references(() => sites.id, { onDelete: 'cascade' }),
    trigger: text('trigger', { enum: SCAN_TRIGGERS }).notNull(),
    state: text('state', { enum: SCAN_STATES }).notNull(),
    attempts: integer('attempts').notNull().default(0),
    queuedAt: timestampMs('queued_at').notNull(),
    startedAt: timestampMs('started_at'),
    finishedAt: timestampMs('finished_at'),
    outcome: text('outcome', { enum: SCAN_OUTCOMES }),
    grade: text('grade').$type<Grade>(),
    score: integer('score'),
    durationMs: integer('duration_ms'),
    error: text('error'),
    worker: text('worker'),
    region: text('region'),
    findingSetId: integer('finding_set_id'),
    contextSetId: integer('context_set_id'),
  },
  (table) => [
    index('scans_site_history_idx').on(
      table.siteId,
      table.startedAt,
      table.id,
      table.state,
      table.outcome,
      table.grade,
      table.score,
      table.findingSetId,
    ),
    uniqueIndex('scans_active_site_unique').on(table.siteId).where(isActiveScan(table.state)),
    // Failed scans are few: the dead letters (GET /api/queue) are found without reading the whole history.
    index('scans_errors_idx').on(table.id).where(sql`${table.outcome} = 'error'`),
  ],
);

export const dailySummaries = pgTable(
  'daily_summaries',
  {
    siteId: integer('site_id')
      .notNull()
      .references(() => sites.id, { onDelete: 'cascade' }),
    day: text('day').notNull(),
    scans: integer('scans').notNull(),
    minScore: integer('min_score'),
    maxScore: integer('max_score'),
    lastScore: integer('last_score'),
    lastGrade: text('last_grade').$type<Grade>(),
    worstGrade: text('worst_grade').$type<Grade>(),
    lastOutcome: text('last_outcome', { enum: SCAN_OUTCOMES }).notNull(),
    lastScanAt: timestampMs('last_scan_at').notNull(),
    lastFindingSetId: integer('last_finding_set_id'),
  },
  (table) => [primaryKey({ columns: [table.siteId, table.day] })],
);

export const settings = pgTable('settings', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
  updatedAt: timestampMs('updated_at').notNull(),
});

// ---- Alerts ----

export const alertSiteStates = pgTable('alert_site_states', {
  // An INTEGER PRIMARY KEY in SQLite is the rowid and numbers itself when left out, so drizzle types it as
  // optional on insert; an identity gives PostgreSQL the same behaviour and the same insert type.
  siteId: integer('site_id')
    .primaryKey()
    .generatedByDefaultAsIdentity()
    .references(() => sites.id, { onDelete: 'cascade' }),
  lastScanId: integer('last_scan_id').notNull(),
  memory: text('memory').notNull(),
  updatedAt: timestampMs('updated_at').notNull(),
});

export const incidents = pgTable(
  'incidents',
  {
    id: integer('id').primaryKey().generatedByDefaultAsIdentity(),
    siteId: integer('site_id')
      .notNull()
      .references(() => sites.id, { onDelete: 'cascade' }),
    key: text('key').notNull(),
    severity: text('severity', { enum: SEVERITIES }).notNull(),
    status: text('status', { enum: INCIDENT_STATUSES }).notNull(),
    openedAt: timestampMs('opened_at').notNull(),
    firstSeenAt: timestampMs('first_seen_at').notNull(),
    resolvedAt: timestampMs('resolved_at'),
    openScanId: integer('open_scan_id'),
    resolveScanId: integer('resolve_scan_id'),
    evidence: text('evidence').notNull().default(''),
    fromGrade: text('from_grade').$type<Grade>(),
    acknowledgedAt: timestampMs('acknowledged_at'),
    acknowledgedNote: text('acknowledged_note'),
    lastNotifiedAt: timestampMs('last_notified_at').notNull(),
    flappingSince: timestampMs('flapping_since'),
    reopenCount: integer('reopen_count').notNull().default(0),
    updatedAt: timestampMs('updated_at').notNull(),
  },
  (table) => [
    uniqueIndex('incidents_open_unique').on(table.siteId, table.key).where(sql`${table.status} = 'open'`),
    index('incidents_site_opened_idx').on(table.siteId, table.openedAt),
    index('incidents_status_opened_idx').on(table.status, table.openedAt),
  ],
);

export const alertMails = pgTable(
  'alert_mails',
  {
    id: integer('id').primaryKey().generatedByDefaultAsIdentity(),
    kind: text('kind', { enum: MAIL_KINDS }).notNull(),
    siteId: integer('site_id').references(() => sites.id, { onDelete: 'set null' }),
    subject: text('subject').notNull(),
    text: text('text').notNull(),
    html: text('html').notNull(),
    createdAt: timestampMs('created_at').notNull(),
  },
  (table) => [index('alert_mails_site_idx').on(table.siteId)],
);

export const incidentEvents = pgTable(
  'incident_events',
  {
    id: integer('id').primaryKey().generatedByDefaultAsIdentity(),
    incidentId: integer('incident_id')
      .notNull()
      .references(() => incidents.id, { onDelete: 'cascade' }),
    type: text('type', { enum: INCIDENT_EVENT_TYPES }).notNull(),
    at: timestampMs('at').notNull(),
    severity: text('severity', { enum: SEVERITIES }).notNull(),
    scanId: integer('scan_id'),
    notify: boolean('notify').notNull(),
    mailId: integer('mail_id').references(() => alertMails.id, { onDelete: 'set null' }),
    detail: text('detail').notNull().default(''),
  },
  (table) => [
    index('incident_events_incident_idx').on(table.incidentId, table.at),
    index('incident_events_at_idx').on(table.at),
    index('incident_events_mail_idx').on(table.mailId),
  ],
);

export const alertMailIncidents = pgTable(
  'alert_mail_incidents',
  {
    mailId: integer('mail_id')
      .notNull()
      .references(() => alertMails.id, { onDelete: 'cascade' }),
    incidentId: integer('incident_id')
      .notNull()
      .references(() => incidents.id, { onDelete: 'cascade' }),
  },
  (table) => [
    primaryKey({ columns: [table.mailId, table.incidentId] }),
    index('alert_mail_incidents_incident_idx').on(table.incidentId),
  ],
);

export const alertRecipients = pgTable(
  'alert_recipients',
  {
    id: integer('id').primaryKey().generatedByDefaultAsIdentity(),
    email: text('email').notNull(),
    name: text('name').notNull().default(''),
    mode: text('mode', { enum: RECIPIENT_MODES }).notNull(),
    enabled: boolean('enabled').notNull().default(true),
    lastDigestAt: timestampMs('last_digest_at').notNull(),
    createdAt: timestampMs('created_at').notNull(),
    updatedAt: timestampMs('updated_at').notNull(),
  },
  (table) => [uniqueIndex('alert_recipients_email_unique').on(table.email)],
);

export const alertSubscriptions = pgTable(
  'alert_subscriptions',
  {
    id: integer('id').primaryKey().generatedByDefaultAsIdentity(),
    recipientId: integer('recipient_id')
      .notNull()
      .references(() => alertRecipients.id, { onDelete: 'cascade' }),
    siteId: integer('site_id').references(() => sites.id, { onDelete: 'cascade' }),
    tag: text('tag'),
  },
  (table) => [
    index('alert_subscriptions_recipient_idx').on(table.recipientId),
    index('alert_subscriptions_site_idx').on(table.siteId),
  ],
);

export const alertDeliveries = pgTable(
  'alert_deliveries',
  {
    id: integer('id').primaryKey().generatedByDefaultAsIdentity(),
    mailId: integer('mail_id')
      .notNull()
      .references(() => alertMails.id, { onDelete: 'cascade' }),
    recipientId: integer('recipient_id').references(() => alertRecipients.id, { onDelete: 'set null' }),
    address: text('address').notNull(),
    messageId: text('message_id').notNull(),
    status: text('status', { enum: DELIVERY_STATUSES }).notNull(),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestampMs('next_attempt_at').notNull(),
    lastAttemptAt: timestampMs('last_attempt_at'),
    lastError: text('last_error'),
    sentAt: timestampMs('sent_at'),
    createdAt: timestampMs('created_at').notNull(),
  },
  (table) => [
    uniqueIndex('alert_deliveries_message_id_unique').on(table.messageId),
    index('alert_deliveries_due_idx').on(table.status, table.nextAttemptAt),
    index('alert_deliveries_mail_idx').on(table.mailId),
    index('alert_deliveries_recipient_idx').on(table.recipientId),
  ],
);

export const alertMutes = pgTable(
  'alert_mutes',
  {
    id: integer('id').primaryKey().generatedByDefaultAsIdentity(),
    siteId: integer('site_id')
      .notNull()
      .references(() => sites.id, { onDelete: 'cascade' }),
    key: text('key').notNull(),
    reason: text('reason').notNull(),
    expiresAt: timestampMs('expires_at').notNull(),
    createdAt: timestampMs('created_at').notNull(),
  },
  (table) => [index('alert_mutes_site_key_idx').on(table.siteId, table.key, table.expiresAt)],
);

// ---- Accounts ----

export const users = pgTable(
  'users',
  {
    id: integer('id').primaryKey().generatedByDefaultAsIdentity(),
    email: text('email').notNull(),
    name: text('name').notNull().default(''),
    role: text('role', { enum: USER_ROLES }).notNull(),
    passwordHash: text('password_hash').notNull(),
    disabledAt: timestampMs('disabled_at'),
    lastLoginAt: timestampMs('last_login_at'),
    passwordChangedAt: timestampMs('password_changed_at').notNull(),
    createdAt: timestampMs('created_at').notNull(),
    updatedAt: timestampMs('updated_at').notNull(),
  },
  (table) => [uniqueIndex('users_email_unique').on(table.email)],
);

export const setupTokens = pgTable('setup_tokens', {
  tokenHash: text('token_hash').primaryKey(),
  createdAt: timestampMs('created_at').notNull(),
});

export const invitations = pgTable(
  'invitations',
  {
    id: integer('id').primaryKey().generatedByDefaultAsIdentity(),
    email: text('email').notNull(),
    role: text('role', { enum: USER_ROLES }).notNull(),
    tokenHash: text('token_hash').notNull(),
    invitedBy: integer('invited_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: timestampMs('created_at').notNull(),
    expiresAt: timestampMs('expires_at').notNull(),
    acceptedAt: timestampMs('accepted_at'),
    userId: integer('user_id').references(() => users.id, { onDelete: 'set null' }),
  },
  (table) => [
    uniqueIndex('invitations_token_hash_unique').on(table.tokenHash),
    index('invitations_email_idx').on(table.email),
  ],
);

export const sessions = pgTable(
  'sessions',
  {
    idHash: text('id_hash').primaryKey(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: timestampMs('created_at').notNull(),
    lastSeenAt: timestampMs('last_seen_at').notNull(),
    expiresAt: timestampMs('expires_at').notNull(),
    ip: text('ip').notNull().default(''),
    userAgent: text('user_agent').notNull().default(''),
  },
  (table) => [index('sessions_user_idx').on(table.userId), index('sessions_expires_idx').on(table.expiresAt)],
);

export const apiTokens = pgTable(
  'api_tokens',
  {
    id: integer('id').primaryKey().generatedByDefaultAsIdentity(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    scope: text('scope', { enum: TOKEN_SCOPES }).notNull(),
    prefix: text('prefix').notNull(),
    tokenHash: text('token_hash').notNull(),
    createdAt: timestampMs('created_at').notNull(),
    lastUsedAt: timestampMs('last_used_at'),
    revokedAt: timestampMs('revoked_at'),
  },
  (table) => [
    uniqueIndex('api_tokens_token_hash_unique').on(table.tokenHash),
    index('api_tokens_user_idx').on(table.userId),
  ],
);

export const loginThrottles = pgTable('login_throttles', {
  key: text('key').primaryKey(),
  failures: integer('failures').notNull(),
  lastFailureAt: timestampMs('last_failure_at').notNull(),
  blockedUntil: timestampMs('blocked_until').notNull(),
});

export const auditLog = pgTable(
  'audit_log',
  {
    id: integer('id').primaryKey().generatedByDefaultAsIdentity(),
    at: timestampMs('at').notNull(),
    userId: integer('user_id').references(() => users.id, { onDelete: 'set null' }),
    actor: text('actor').notNull(),
    via: text('via').notNull().default(''),
    action: text('action').notNull(),
    target: text('target').notNull().default(''),
    detail: text('detail').notNull().default('{}'),
    ip: text('ip').notNull().default(''),
  },
  (table) => [index('audit_log_user_idx').on(table.userId), index('audit_log_action_idx').on(table.action)],
);

/** Every table, by the name services import it under (server/db/schema.ts); the keys of sqlite-schema's `tables`. */
export const tables = {
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
};

// ---- Row types equal SQLite's (schema.ts casts these tables to the SQLite ones) ----

/** True only when A and B are the same type, not merely assignable either way. */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

type PgTables = typeof tables;
type SqliteTables = typeof sqliteTables;

/** `<table>.select` / `<table>.insert` for every table whose row type differs between the dialects. */
type RowTypeMismatches = {
  [K in keyof SqliteTables & string]: K extends keyof PgTables
    ?
        | (Equal<InferSelectModel<PgTables[K]>, InferSelectModel<SqliteTables[K]>> extends true
            ? never
            : `${K}.select`)
        | (Equal<InferInsertModel<PgTables[K]>, InferInsertModel<SqliteTables[K]>> extends true
            ? never
            : `${K}.insert`)
    : `${K} missing`;
};

/** Accepts only an object whose every property is never, so tsc names the first property that is not. */
type ExpectNone<T extends { [K in keyof T]: never }> = T;
type ExpectTrue<T extends true> = T;

// A mismatch fails tsc here and names it: "Types of property 'incidents' are incompatible. Type
// '"incidents.insert"' is not assignable to type 'never'".
export type RowTypesMatch = ExpectNone<RowTypeMismatches>;
export type SameTableKeys = ExpectTrue<Equal<keyof PgTables, keyof SqliteTables>>;
