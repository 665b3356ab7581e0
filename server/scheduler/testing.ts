import { createPgBossQueue, type PgBossQueueOptions } from './pg-boss-queue';
import type { ScanQueue } from './queue';

/**
 * A pg-boss scan queue as tests use it: a one-minute lease, two retries a second apart and a fixed jitter,
 * so a test sees hand-backs, retries and dead letters within seconds. Each test names its worker, as each
 * process has a name of its own.
 */
export function createTestPgBossQueue(
  options: Pick<PgBossQueueOptions, 'db' | 'databaseUrl' | 'worker'> & Partial<PgBossQueueOptions>,
): Promise<ScanQueue> {
  return createPgBossQueue({
    region: null,
    leaseSeconds: 60,
    retryLimit: 2,
    retryDelaySeconds: 1,
    random: () => 0.5,
    ...options,
  });
}
