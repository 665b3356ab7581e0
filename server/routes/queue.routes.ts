import { Hono } from 'hono';
import { z } from 'zod';
import type { AppEnv } from './env';
import { validate } from './validate';

const queueQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
});

/** The scan queue as operators see it: depth, retries waiting, and the scans it gave up on (dead letters). */
export const queueRoutes = new Hono<AppEnv>().get('/', validate('query', queueQuerySchema), async (c) => {
  const { queue, status } = c.var.scheduler;
  const { limit } = c.req.valid('query');
  const [depth, deadLetters] = await Promise.all([queue.depth(), queue.deadLetters(limit)]);
  return c.json({ backend: queue.backend, ...depth, deadLetters, process: status() });
});
