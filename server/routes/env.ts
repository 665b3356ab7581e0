import type { Actor } from '../auth/policy';
import type { RequestOrigin } from '../auth/request';
import type { Database } from '../db';
import type { Scheduler } from '../scheduler/scheduler';
import type { ServiceContext } from '../services/context';

/** What every route handler finds on the context, set once by createApp. */
export type AppEnv = {
  Variables: {
    ctx: ServiceContext;
    /** The open database under ctx.db, for health and version probes. */
    database: Database;
    scheduler: Pick<Scheduler, 'wake' | 'status' | 'queue'>;
    /** Where the request came from (HTTPS or not, client address, origin). */
    client: RequestOrigin;
    /** The signed-in user on protected routes; null on public ones. */
    actor: Actor | null;
  };
};
