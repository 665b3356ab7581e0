/** The values Vigil's tables hold, shared by the SQLite and PostgreSQL schemas. */

export const SCAN_STATES = ['queued', 'running', 'done'] as const;
export type ScanState = (typeof SCAN_STATES)[number];

export const SCAN_OUTCOMES = ['ok', 'unreachable', 'error'] as const;
export type ScanOutcome = (typeof SCAN_OUTCOMES)[number];

/** `confirm`: the one immediate rescan the alert engine asks for before it believes a regression. */
export const SCAN_TRIGGERS = ['schedule', 'manual', 'confirm'] as const;
export type ScanTrigger = (typeof SCAN_TRIGGERS)[number];

export const INCIDENT_STATUSES = ['open', 'resolved'] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

export const INCIDENT_EVENT_TYPES = [
  'opened',
  'reopened',
  'worse',
  'severity',
  'cert',
  'flapping',
  'resolved',
  'settled',
  'reminded',
  'acknowledged',
] as const;
export type IncidentEventType = (typeof INCIDENT_EVENT_TYPES)[number];

export const MAIL_KINDS = ['change', 'reminder', 'settled', 'digest'] as const;
export type MailKind = (typeof MAIL_KINDS)[number];

export const DELIVERY_STATUSES = ['pending', 'sending', 'sent', 'failed', 'cancelled'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export const RECIPIENT_MODES = ['immediate', 'digest'] as const;
export type RecipientMode = (typeof RECIPIENT_MODES)[number];

export const USER_ROLES = ['admin', 'viewer'] as const;
export type UserRole = (typeof USER_ROLES)[number];

export const TOKEN_SCOPES = ['read', 'write'] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];
