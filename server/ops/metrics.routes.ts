import { Hono } from 'hono';
import { env } from '../config/env';
import type { AppEnv } from '../routes/env';
import { requireBearerToken } from './bearer-token';
import { createMetrics, type MetricsSources } from './metrics';
import { formatMetrics, PROMETHEUS_CONTENT_TYPE } from './prometheus';

/** `GET /metrics` for Prometheus, behind `Authorization: Bearer $VIGIL_METRICS_TOKEN`; 404 when unset. */
export function metricsRoutes(sources: MetricsSources & { token?: string | undefined }) {
  const metrics = createMetrics(sources);
  const token = 'token' in sources ? sources.token : env().VIGIL_METRICS_TOKEN;
  return new Hono<AppEnv>().get('/', requireBearerToken(token, 'vigil-metrics'), (c) => {
    c.header('Content-Type', PROMETHEUS_CONTENT_TYPE);
    c.header('Cache-Control', 'no-store');
    return c.body(formatMetrics(metrics.collect(c.var.scheduler.status())));
  });
}
