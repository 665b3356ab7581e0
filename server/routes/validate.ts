import { zValidator } from '@hono/zod-validator';
import type { MiddlewareHandler, ValidationTargets } from 'hono';
import { z } from 'zod';
import { MAX_ROW_ID } from '../db/sql';
import { AppError } from '../errors';

/** Every body, query and path parameter goes through zod; a failure becomes the one error shape (400). */
export function validate<Target extends keyof ValidationTargets, Schema extends z.ZodType>(
  target: Target,
  schema: Schema,
) {
  return zValidator(target, schema, (result) => {
    if (result.success) return;
    const issues = result.error.issues.map((issue) => ({
      path: issue.path.join('.'),
      message: issue.message,
    }));
    const first = issues[0];
    const where = first?.path ? `${target} ${first.path}` : target;
    throw new AppError('invalid_request', `Invalid ${where}: ${first?.message ?? 'invalid'}`, {
      target,
      issues,
    });
  });
}

/** A positive integer path parameter (a row id). */
export const idSchema = z
  .string()
  .regex(/^[1-9]\d{0,14}$/, 'must be a positive integer id')
  .refine((text) => Number(text) <= MAX_ROW_ID, `must be an id from 1 to ${MAX_ROW_ID}`)
  .transform(Number);

export const idParamSchema = z.object({ id: idSchema });

/** JSON endpoints refuse other media types up front, so a wrong Content-Type is not reported as missing fields. */
export const requireJson: MiddlewareHandler = async (c, next) => {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/([\w.-]+\+)?json\s*(;|$)/i.test(type))
    throw new AppError('unsupported_media_type', 'Send the body as JSON (Content-Type: application/json)');
  await next();
};
