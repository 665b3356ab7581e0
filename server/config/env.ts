import { z } from 'zod';

const flag = z
  .enum(['0', '1', 'true', 'false', ''])
  .optional()
  .transform((value) => value === '1' || value === 'true');

const dnsServers = z
  .string()
  .optional()
  .transform((value) =>
    (value ?? '')
      .split(',')
      .map((server) => server.trim())
      .filter(Boolean),
  );

/** Every environment variable Vigil reads, parsed once at start-up; nothing else reads process.env. */
const envSchema = z.object({
  VIGIL_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  VIGIL_HOST: z.string().default('0.0.0.0'),
  VIGIL_DATA_DIR: z.string().default('./data'),
  /** `postgres://…`: store in PostgreSQL and queue scans through pg-boss instead of the SQLite file in VIGIL_DATA_DIR. */
  VIGIL_DATABASE_URL: z
    .string()
    .optional()
    .transform((value) => value || undefined)
    .refine(
      (value) => value === undefined || /^postgres(ql)?:\/\//i.test(value),
      'must be a postgres:// URL',
    ),
  /** What `vigil serve` runs: web (API, dashboard), scheduler, worker (scans), or all three (PostgreSQL for the split). */
  VIGIL_ROLE: z.enum(['all', 'web', 'scheduler', 'worker']).default('all'),
  /** PostgreSQL: connections each process keeps for queries (pg-boss keeps 2 more of its own). */
  VIGIL_DATABASE_POOL_SIZE: z.coerce.number().int().min(2).max(100).default(10),
  /** A worker's region label: it also scans the sites that require this region. */
  VIGIL_REGION: z
    .string()
    .optional()
    .transform((value) => value || undefined)
    .refine(
      (value) => value === undefined || /^[a-z0-9][a-z0-9-]{0,29}$/.test(value),
      'must be 1-30 of a-z 0-9 -',
    ),
  /** PostgreSQL workers: seconds a scan job is leased; a killed worker's job is retried after this. */
  VIGIL_JOB_LEASE_SECONDS: z.coerce.number().int().min(5).max(3600).default(180),
  /** PostgreSQL workers: retries of a job no worker could finish, before it is dead-lettered. */
  VIGIL_JOB_RETRY_LIMIT: z.coerce.number().int().min(0).max(20).default(3),
  /** PostgreSQL workers: seconds before the first retry (doubling each time). */
  VIGIL_JOB_RETRY_DELAY_SECONDS: z.coerce.number().int().min(1).max(3600).default(15),
  /** PostgreSQL workers: how often an idle worker looks for queued scans, in milliseconds. */
  VIGIL_WORKER_POLL_MS: z.coerce.number().int().min(100).max(60_000).default(2000),
  /** How long a process sending an alert mail holds it; a sender killed mid-send is retried after this. */
  VIGIL_ALERT_LEASE_SECONDS: z.coerce.number().int().min(5).max(3600).default(120),
  VIGIL_DNS_SERVERS: dnsServers,
  VIGIL_ALLOW_PRIVATE: flag,
  VIGIL_SMTP_URL: z.string().optional(),
  VIGIL_MAIL_FROM: z.string().default('Vigil <vigil@localhost>'),
  /** The dashboard's address as people open it; alert mails link to `<VIGIL_PUBLIC_URL>/sites/<id>`. */
  VIGIL_PUBLIC_URL: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
  NODE_EXTRA_CA_CERTS: z.string().optional(),
  /** `1` behind a reverse proxy: its X-Forwarded-Proto/-For/-Host decide HTTPS (Secure cookies, HSTS) and client addresses. */
  VIGIL_TRUST_PROXY: flag,
  /** Scans run at once by the scheduler (an admin setting can override it). */
  VIGIL_SCAN_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(8),
  /** Raw scans are kept this many days, then folded into one summary per site per day. */
  VIGIL_RETENTION_DAYS: z.coerce.number().int().min(1).max(36500).default(400),
  /** node-cron expression (with seconds) for the scheduler tick. */
  VIGIL_TICK_CRON: z.string().default('*/30 * * * * *'),
  /** Bearer token Prometheus sends to GET /metrics; unset or empty, /metrics answers 404. */
  VIGIL_METRICS_TOKEN: z
    .string()
    .optional()
    .transform((value) => value || undefined)
    .refine((value) => value === undefined || value.length >= 16, 'must be at least 16 characters'),
});

export type Env = z.infer<typeof envSchema>;

export function parseEnv(source: Record<string, string | undefined>): Env {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`Invalid environment:\n${problems.join('\n')}`);
  }
  return parsed.data;
}

let cached: Env | undefined;

/** The process environment, validated on first use. */
export function env(): Env {
  cached ??= parseEnv(process.env);
  return cached;
}

/** Where the data lives: PostgreSQL when VIGIL_DATABASE_URL is set, else the SQLite file in VIGIL_DATA_DIR. */
export function storageLocation(config: Env = env()): string {
  return config.VIGIL_DATABASE_URL ?? config.VIGIL_DATA_DIR;
}
