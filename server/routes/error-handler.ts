import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { storageFault } from '../db/faults';
import { AppError, ERROR_CODES, type ErrorCode } from '../errors';

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown };
}

/** Faults clear when an operator acts or a lock is released: a client may try again soon. */
const STORAGE_RETRY_AFTER_SECONDS = 5;

function codeForStatus(status: number): ErrorCode {
  if (status === 400) return 'invalid_request';
  const match = (Object.entries(ERROR_CODES) as [ErrorCode, number][]).find(([, code]) => code === status);
  return match?.[0] ?? (status >= 500 ? 'internal' : 'invalid_request');
}

/**
 * The one place errors become HTTP: AppError as is, Hono's own exceptions mapped, a storage fault (locked,
 * disk full, read-only) a 503 that names it, anything else a 500 that hides the cause.
 */
export function createErrorHandler(logError: (error: unknown) => void) {
  return (error: Error, c: Context) => {
    if (error instanceof AppError) {
      const body: ErrorBody = { error: { code: error.code, message: error.message } };
      if (error.details !== undefined) body.error.details = error.details;
      return c.json(body, error.status);
    }
    if (error instanceof HTTPException) {
      const status = error.status as ContentfulStatusCode;
      const code = codeForStatus(status);
      return c.json(
        { error: { code, message: error.message || code.replaceAll('_', ' ') } } satisfies ErrorBody,
        status,
      );
    }
    const fault = storageFault(error);
    if (fault) {
      logError(`vigil: ${c.req.method} ${c.req.path}: database unavailable: ${fault.message}`);
      c.header('Retry-After', String(STORAGE_RETRY_AFTER_SECONDS));
      return c.json(
        {
          error: { code: 'unavailable', message: `Database unavailable: ${fault.message}` },
        } satisfies ErrorBody,
        503,
      );
    }
    logError(error);
    return c.json({ error: { code: 'internal', message: 'Internal server error' } } satisfies ErrorBody, 500);
  };
}
