import { Hono } from 'hono';
import { env } from '../config/env';
import type { AppEnv } from '../routes/env';
import { requireBearerToken } from './bearer-token';
import { createMetrics, type MetricsSources } from './metrics';
import { formatMetrics, PROMETHEUS_CONTENT_TYPE } from './prometheus';

/** `GET /metrics` for Prometheus, behind `Authorization: Bearer $VIGIL_METRICS_TOKEN`; 404 when unset. */
export function metricsRoutes(sources: MetricsSources & { token?: string | undefined }) {
  const token = 'token' in sources ? sources.token : env().VIGIL_METRICS_TOKEN;
  // Without a token the route answers 404 before reaching the handler; nothing needs counting then.
  const metrics = token ? createMetrics(sources) : null;
  return new Hono<AppEnv>().get('/', requireBearerToken(token, 'vigil-metrics'), async (c) => {
    const families = await metrics?.collect(await c.var.scheduler.status());
    c.header('Content-Type', PROMETHEUS_CONTENT_TYPE);
    c.header('Cache-Control', 'no-store');
    return c.body(formatMetrics(families ?? []));
  });
}
