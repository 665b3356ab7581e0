import { type SQL, sql } from 'drizzle-orm';
import {
  type AnySQLiteColumn,
  blob,
  index,
  integer,
  primaryKey,
  sqliteTable,
  text,
  uniqueIndex,
} from 'drizzle-orm/sqlite-core';
import { type Grade, SEVERITIES } from '../scan/types';
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

/**
 * Vigil's storage on SQLite; drizzle-kit generates migrations/sqlite/ from it. server/db/pg-schema.ts is the
 * same schema for PostgreSQL (schema-drift.test.ts keeps them equal); services import server/db/schema.ts.
 */

/** A scan waiting for or holding a worker; written as a literal so SQLite can use the partial index. */
export function isActiveScan(state: AnySQLiteColumn): SQL {
  return sql`${state} in ('queued', 'running')`;
}

export const sites = sqliteTable(
  'sites',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    /** The normalised target (formatTarget): host, with a port only when it is not 443. */
    host: text('host').notNull(),
    label: text('label').notNull().default(''),
    intervalMinutes: integer('interval_minutes').notNull(),
    enabled: integer('enabled', { mode: 'boolean' }).notNull().default(true),
    allowPrivate: integer('allow_private', { mode: 'boolean' }).notNull().default(false),
    /** A Django checkout on the Vigil host audited with every scan (the inside view); null for none. */
    sourcePath: text('source_path'),
    /** Only workers carrying this region label scan the site (PostgreSQL workers); null for any worker. */
    region: text('region'),
    nextScanAt: integer('next_scan_at', { mode: 'timestamp_ms' }).notNull(),
    /** The newest finished scan, kept here so the overview is one join rather than a search per site. */
    lastScanId: integer('last_scan_id').references((): AnySQLiteColumn => scans.id, { onDelete: 'set null' }),
    createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
    updatedAt: integer('updated_at', { mode: 'timestamp_ms' }).notNull(),
  },
  (table) => [
    uniqueIndex('sites_host_unique').on(table.host),
    index('sites_due_idx').on(table.enabled, table.nextScanAt),
    // Lets retention delete scans without scanning every site for the set-null foreign key.
    index('sites_last_scan_idx').on(table.lastScanId),
  ],
);

export const siteTags = sqliteTable(
  'site_tags',
  {
    siteId: integer('site_id')
      .notNull()
      .references(() => sites.id, { onDelete: 'cascade' }),
    tag: text('tag').notNull(),
  },
  (table) => [primaryKey({ columns: [table.siteId, table.tag] }), index('site_tags_tag_idx').on(table.tag)],
);

/** Findings of a scan, stored once per distinct content and referenced by every scan that saw them. */
export const findingSets = sqliteTable(
  'finding_sets',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    /** sha256 of the canonical JSON of the findings. */
    hash: text('hash').notNull(),
    /** Canonical JSON, deflated. */
    body: blob('body', { mode: 'buffer' }).notNull(),
    critical: integer('critical').notNull(),
    high: integer('high').notNull(),
    medium: integer('medium').notNull(),
    low: integer('low').notNull(),
    info: integer('info').notNull(),
  },
  (table) => [uniqueIndex('finding_sets_hash_unique').on(table.hash)],
);

/** What a scan saw besides findings (addresses, Django detection, TLS summary, check results), deduplicated the same way. */
export const contextSets = sqliteTable(
  'context_sets',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    hash: text('hash').notNull(),
    body: blob('body', { mode: 'buffer' }).notNull(),
  },
  (table) => [uniqueIndex('context_sets_hash_unique').on(table.hash)],
);

export const scans = sqliteTable(
  'scans',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    siteId: integer('site_id')
      .notNull()
      .references(() => sites.id, { onDelete: 'cascade' }),
    trigger: text('trigger', { enum: SCAN_TRIGGERS }).notNull(),
    state: text('state', { enum: SCAN_STATES }).notNull(),
    /** Times the scan was started; above 1 it was interrupted by a restart and re-queued. */
    attempts: integer('attempts').notNull().default(0),
    queuedAt: integer('queued_at', { mode: 'timestamp_ms' }).notNull(),
    startedAt: integer('started_at', { mode: 'timestamp_ms' }),
    finishedAt: integer('finished_at', { mode: 'timestamp_ms' }),
    outcome: text('outcome', { enum: SCAN_OUTCOMES }),
    grade: text('grade').$type<Grade>(),
    score: integer('score'),
    durationMs: integer('duration_ms'),
    error: text('error'),
    /** Which worker ran the scan (`host:pid`) and its region label, when it ran on a PostgreSQL worker. */
    worker: text('worker'),
    region: text('region'),
    // No foreign keys on the set ids: a check per deleted set would scan every scan; retention keeps them whole.
    findingSetId: integer('finding_set_id'),
    contextSetId: integer('context_set_id'),
  },
  (table) => [
    // A site's history in time order, covering what the history and trend read: one site's year is one
    // contiguous index range instead of a row lookup per scan scattered over the table. `id` is spelled out
    // (SQLite has it in every index anyway) so PostgreSQL, ordering by (started_at, id), reads the index alone.
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
    // At most one queued or running scan per site: the database itself refuses a second one.
    uniqueIndex('scans_active_site_unique').on(table.siteId).where(isActiveScan(table.state)),
    // Failed scans are few: the dead letters (GET /api/queue) are found without reading the whole history.
    index('scans_errors_idx').on(table.id).where(sql`${table.outcome} = 'error'`),
  ],
);

/** Scans older than the retention period, folded into one row per site per UTC day. */
export const dailySummaries = sqliteTable(
  'daily_summaries',
  {
    siteId: integer('site_id')
      .notNull()
      .references(() => sites.id, { onDelete: 'cascade' }),
    /** UTC day, YYYY-MM-DD. */
    day: text('day').notNull(),
    scans: integer('scans').notNull(),
    minScore: integer('min_score'),
    maxScore: integer('max_score'),
    lastScore: integer('last_score'),
    lastGrade: text('last_grade').$type<Grade>(),
    worstGrade: text('worst_grade').$type<Grade>(),
    lastOutcome: text('last_outcome', { enum: SCAN_OUTCOMES }).notNull(),
    lastScanAt: integer('last_scan_at', { mode: 'timestamp_ms' }).notNull(),
    lastFindingSetId: integer('last_finding_set_id'),
  },
  (table) => [primaryKey({ columns: [table.siteId, table.day] })],
);

/** Admin settings that override the environment defaults; value is JSON. */
export const settings = sqliteTable('settings', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
  updatedAt: integer('updated_at', { mode: 'timestamp_ms' }).notNull(),
});

// ---- Alerts ----

/** The incident engine's memory of a site between scans (server/alerts/engine.ts SiteMemory), as JSON. */
export const alertSiteStates = sqliteTable('alert_site_states', {
  siteId: integer('site_id')
    .primaryKey()
    .references(() => sites.id, { onDelete: 'cascade' }),
  /** The newest scan the engine has evaluated; later ones are evaluated in order, even after a crash. */
  lastScanId: integer('last_scan_id').notNull(),
  memory: text('memory').notNull(),
  updatedAt: integer('updated_at', { mode: 'timestamp_ms' }).notNull(),
});

/** A confirmed regression of one site: a finding ID, `grade.drop` or `site.unreachable`. */
export const incidents = sqliteTable(
  'incidents',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    siteId: integer('site_id')
      .notNull()
      .references(() => sites.id, { onDelete: 'cascade' }),
    key: text('key').notNull(),
    severity: text('severity', { enum: SEVERITIES }).notNull(),
    status: text('status', { enum: INCIDENT_STATUSES }).notNull(),
    openedAt: integer('opened_at', { mode: 'timestamp_ms' }).notNull(),
    /** When the regression was first seen (the scan before the confirming one). */
    firstSeenAt: integer('first_seen_at', { mode: 'timestamp_ms' }).notNull(),
    resolvedAt: integer('resolved_at', { mode: 'timestamp_ms' }),
    openScanId: integer('open_scan_id'),
    resolveScanId: integer('resolve_scan_id'),
    /** What the confirming scan saw (server-supplied text: escape it wherever it is shown). */
    evidence: text('evidence').notNull().default(''),
    /** For grade.drop, the grade before the drop. */
    fromGrade: text('from_grade').$type<Grade>(),
    acknowledgedAt: integer('acknowledged_at', { mode: 'timestamp_ms' }),
    acknowledgedNote: text('acknowledged_note'),
    /** Last time anyone was told about it; reminders count from here. */
    lastNotifiedAt: integer('last_notified_at', { mode: 'timestamp_ms' }).notNull(),
    flappingSince: integer('flapping_since', { mode: 'timestamp_ms' }),
    reopenCount: integer('reopen_count').notNull().default(0),
    updatedAt: integer('updated_at', { mode: 'timestamp_ms' }).notNull(),
  },
  (table) => [
    // Dedupe: at most one open incident per site and key, enforced by the database.
    uniqueIndex('incidents_open_unique').on(table.siteId, table.key).where(sql`${table.status} = 'open'`),
    index('incidents_site_opened_idx').on(table.siteId, table.openedAt),
    index('incidents_status_opened_idx').on(table.status, table.openedAt),
  ],
);

/** What mails are made of: a mail written once, with its text and HTML parts, before any delivery. */
export const alertMails = sqliteTable(
  'alert_mails',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    kind: text('kind', { enum: MAIL_KINDS }).notNull(),
    siteId: integer('site_id').references(() => sites.id, { onDelete: 'set null' }),
    subject: text('subject').notNull(),
    text: text('text').notNull(),
    html: text('html').notNull(),
    createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
  },
  (table) => [index('alert_mails_site_idx').on(table.siteId)],
);

/** Every change an incident went through, and the mail (if any) that told of it. */
export const incidentEvents = sqliteTable(
  'incident_events',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    incidentId: integer('incident_id')
      .notNull()
      .references(() => incidents.id, { onDelete: 'cascade' }),
    type: text('type', { enum: INCIDENT_EVENT_TYPES }).notNull(),
    at: integer('at', { mode: 'timestamp_ms' }).notNull(),
    severity: text('severity', { enum: SEVERITIES }).notNull(),
    scanId: integer('scan_id'),
    /** Worth a mail (not muted, not folded into a flapping notice): digests collect these. */
    notify: integer('notify', { mode: 'boolean' }).notNull(),
    mailId: integer('mail_id').references(() => alertMails.id, { onDelete: 'set null' }),
    detail: text('detail').notNull().default(''),
  },
  (table) => [
    index('incident_events_incident_idx').on(table.incidentId, table.at),
    index('incident_events_at_idx').on(table.at),
    index('incident_events_mail_idx').on(table.mailId),
  ],
);

export const alertMailIncidents = sqliteTable(
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

export const alertRecipients = sqliteTable(
  'alert_recipients',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    /** Lower-cased address. */
    email: text('email').notNull(),
    name: text('name').notNull().default(''),
    mode: text('mode', { enum: RECIPIENT_MODES }).notNull(),
    enabled: integer('enabled', { mode: 'boolean' }).notNull().default(true),
    /** The end of the period the last digest covered (creation time before the first). */
    lastDigestAt: integer('last_digest_at', { mode: 'timestamp_ms' }).notNull(),
    createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
    updatedAt: integer('updated_at', { mode: 'timestamp_ms' }).notNull(),
  },
  (table) => [uniqueIndex('alert_recipients_email_unique').on(table.email)],
);

/** Which sites a recipient hears about: every site (both null), one site, or every site with a tag. */
export const alertSubscriptions = sqliteTable(
  'alert_subscriptions',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
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

/**
 * The outbox: one row per mail and address, written in the transaction that made the mail. The worker
 * sends it at least once; the Message-ID is fixed here so a duplicate after a crash is recognisable.
 */
export const alertDeliveries = sqliteTable(
  'alert_deliveries',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    mailId: integer('mail_id')
      .notNull()
      .references(() => alertMails.id, { onDelete: 'cascade' }),
    recipientId: integer('recipient_id').references(() => alertRecipients.id, { onDelete: 'set null' }),
    address: text('address').notNull(),
    messageId: text('message_id').notNull(),
    status: text('status', { enum: DELIVERY_STATUSES }).notNull(),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: integer('next_attempt_at', { mode: 'timestamp_ms' }).notNull(),
    lastAttemptAt: integer('last_attempt_at', { mode: 'timestamp_ms' }),
    lastError: text('last_error'),
    sentAt: integer('sent_at', { mode: 'timestamp_ms' }),
    createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
  },
  (table) => [
    uniqueIndex('alert_deliveries_message_id_unique').on(table.messageId),
    index('alert_deliveries_due_idx').on(table.status, table.nextAttemptAt),
    index('alert_deliveries_mail_idx').on(table.mailId),
    index('alert_deliveries_recipient_idx').on(table.recipientId),
  ],
);

/** Nobody is mailed about this key on this site until the mute expires; incidents still open and close. */
export const alertMutes = sqliteTable(
  'alert_mutes',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    siteId: integer('site_id')
      .notNull()
      .references(() => sites.id, { onDelete: 'cascade' }),
    key: text('key').notNull(),
    reason: text('reason').notNull(),
    expiresAt: integer('expires_at', { mode: 'timestamp_ms' }).notNull(),
    createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
  },
  (table) => [index('alert_mutes_site_key_idx').on(table.siteId, table.key, table.expiresAt)],
);

// ---- Accounts ----

export const users = sqliteTable(
  'users',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    /** Lower-cased address; the login name. */
    email: text('email').notNull(),
    name: text('name').notNull().default(''),
    role: text('role', { enum: USER_ROLES }).notNull(),
    /** Versioned scrypt string (server/auth/password.ts), or `!` for an account that cannot log in with a password. */
    passwordHash: text('password_hash').notNull(),
    disabledAt: integer('disabled_at', { mode: 'timestamp_ms' }),
    lastLoginAt: integer('last_login_at', { mode: 'timestamp_ms' }),
    passwordChangedAt: integer('password_changed_at', { mode: 'timestamp_ms' }).notNull(),
    createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
    updatedAt: integer('updated_at', { mode: 'timestamp_ms' }).notNull(),
  },
  (table) => [uniqueIndex('users_email_unique').on(table.email)],
);

/** The one-time first-run link; only its SHA-256 is kept, and a fresh one replaces it at each start without users. */
export const setupTokens = sqliteTable('setup_tokens', {
  tokenHash: text('token_hash').primaryKey(),
  createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
});

/** A one-time link that lets its holder create an account with the given address and role. */
export const invitations = sqliteTable(
  'invitations',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    email: text('email').notNull(),
    role: text('role', { enum: USER_ROLES }).notNull(),
    tokenHash: text('token_hash').notNull(),
    invitedBy: integer('invited_by').references(() => users.id, { onDelete: 'set null' }),
    createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
    expiresAt: integer('expires_at', { mode: 'timestamp_ms' }).notNull(),
    acceptedAt: integer('accepted_at', { mode: 'timestamp_ms' }),
    userId: integer('user_id').references(() => users.id, { onDelete: 'set null' }),
  },
  (table) => [
    uniqueIndex('invitations_token_hash_unique').on(table.tokenHash),
    index('invitations_email_idx').on(table.email),
  ],
);

/** A browser login; the cookie holds a random 256-bit id, the table only its SHA-256. */
export const sessions = sqliteTable(
  'sessions',
  {
    idHash: text('id_hash').primaryKey(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
    lastSeenAt: integer('last_seen_at', { mode: 'timestamp_ms' }).notNull(),
    /** Absolute end, however active the session is. */
    expiresAt: integer('expires_at', { mode: 'timestamp_ms' }).notNull(),
    ip: text('ip').notNull().default(''),
    userAgent: text('user_agent').notNull().default(''),
  },
  (table) => [index('sessions_user_idx').on(table.userId), index('sessions_expires_idx').on(table.expiresAt)],
);

/** A personal API token for scripts and CI (`Authorization: Bearer vgl_…`); only its SHA-256 is kept. */
export const apiTokens = sqliteTable(
  'api_tokens',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    scope: text('scope', { enum: TOKEN_SCOPES }).notNull(),
    /** The first characters, shown so people can tell their tokens apart. */
    prefix: text('prefix').notNull(),
    tokenHash: text('token_hash').notNull(),
    createdAt: integer('created_at', { mode: 'timestamp_ms' }).notNull(),
    lastUsedAt: integer('last_used_at', { mode: 'timestamp_ms' }),
    revokedAt: integer('revoked_at', { mode: 'timestamp_ms' }),
  },
  (table) => [
    uniqueIndex('api_tokens_token_hash_unique').on(table.tokenHash),
    index('api_tokens_user_idx').on(table.userId),
  ],
);

/** Failed logins per account (`account:<email>`) or per address (`ip:<address>`), for backoff that survives restarts. */
export const loginThrottles = sqliteTable('login_throttles', {
  key: text('key').primaryKey(),
  failures: integer('failures').notNull(),
  lastFailureAt: integer('last_failure_at', { mode: 'timestamp_ms' }).notNull(),
  blockedUntil: integer('blocked_until', { mode: 'timestamp_ms' }).notNull(),
});

/** Who changed what: sites, settings, mutes, users, tokens. Kept when the actor's account is deleted. */
export const auditLog = sqliteTable(
  'audit_log',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    at: integer('at', { mode: 'timestamp_ms' }).notNull(),
    userId: integer('user_id').references(() => users.id, { onDelete: 'set null' }),
    /** The actor's e-mail at the time (or `system`), readable after the account is gone. */
    actor: text('actor').notNull(),
    /** How the actor was signed in: `session`, `token:<id>`, or empty for events without one. */
    via: text('via').notNull().default(''),
    action: text('action').notNull(),
    /** What was acted on, e.g. `site:12`, `user:3`. */
    target: text('target').notNull().default(''),
    /** JSON with the request's fields (secrets removed). */
    detail: text('detail').notNull().default('{}'),
    ip: text('ip').notNull().default(''),
  },
  (table) => [
    index('audit_log_user_idx').on(table.userId),
    // Newest first is rowid order; one action's entries are one range of this index.
    index('audit_log_action_idx').on(table.action),
  ],
);

/** Every table, by the name services import it under (server/db/schema.ts). */
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
