import type { Scheduler } from '../scheduler/scheduler';
import type { ServiceContext } from '../services/context';

/** What every route handler finds on the context, set once by createApp. */
export type AppEnv = {
  Variables: {
    ctx: ServiceContext;
    scheduler: Pick<Scheduler, 'wake' | 'status'>;
  };
};
