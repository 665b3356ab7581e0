import { type ClientResponse, hc, type InferResponseType } from 'hono/client';
import type { ResponseFormat } from 'hono/types';
import type { AppType } from '../../server/app';

/** The session's CSRF token, from the cookie the server sets at sign-in (not HttpOnly, for this purpose). */
function csrfToken(): string | undefined {
  const match = /(?:^|;\s*)vigil_csrf=([^;]+)/.exec(document.cookie);
  return match?.[1];
}

/** Dispatched on window when the server answers 401: the session ended (or never began). */
export const SIGNED_OUT_EVENT = 'vigil:signed-out';

/**
 * The typed client: every route, its input and its JSON come from the server's AppType. Every request
 * carries the CSRF token (added here, so calls that pass their own headers keep it); a 401 tells the
 * shell to show the login page.
 */
export const api = hc<AppType>('/', {
  fetch: async (input: RequestInfo | URL, init?: RequestInit) => {
    const headers = new Headers(init?.headers);
    const token = csrfToken();
    if (token) headers.set('x-csrf-token', token);
    const response = await fetch(input, { ...init, headers });
    if (response.status === 401) window.dispatchEvent(new Event(SIGNED_OUT_EVENT));
    return response;
  },
});

/** The API's one error shape, `{ error: { code, message, details? } }`, as a thrown value. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown;

  constructor(status: number, code: string, message: string, details?: unknown) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

async function toApiError(response: Response): Promise<ApiError> {
  const body: unknown = await response.json().catch(() => null);
  const error = isRecord(body) && isRecord(body.error) ? body.error : null;
  if (error && typeof error.code === 'string' && typeof error.message === 'string') {
    return new ApiError(response.status, error.code, error.message, error.details);
  }
  return new ApiError(
    response.status,
    'http',
    `The server answered ${response.status} ${response.statusText}`,
  );
}

type Body<R> = R extends ClientResponse<infer T, number, ResponseFormat> ? T : never;
/** Routes throw AppError for failures, so their typed bodies are the success shapes; this drops any error shape. */
type SuccessBody<R> = Exclude<Body<R>, { error: { code: string; message: string } }>;

/** Awaits a typed client call: its success JSON (null for 204), or an ApiError with the server's message. */
export async function unwrap<R extends ClientResponse<unknown, number, ResponseFormat>>(
  call: Promise<R>,
): Promise<SuccessBody<R>> {
  const response = await call;
  if (!response.ok) throw await toApiError(response as unknown as Response);
  if (response.status === 204) return null as SuccessBody<R>;
  return (await response.json()) as SuccessBody<R>;
}

/** A readable sentence for any failure: the server's own message, or that the server is unreachable. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof TypeError) return 'Cannot reach the Vigil server. Is it running?';
  return error instanceof Error ? error.message : String(error);
}

export type Overview = InferResponseType<typeof api.api.overview.$get, 200>;
export type OverviewItem = Overview['items'][number];
export type SiteDetail = InferResponseType<(typeof api.api.sites)[':id']['$get'], 200>;
export type ScanDetail = InferResponseType<(typeof api.api.scans)[':id']['$get'], 200>;
export type HistoryPage = InferResponseType<(typeof api.api.sites)[':id']['history']['$get'], 200>;
export type HistoryPoint = HistoryPage['items'][number];
export type Finding = NonNullable<ScanDetail['findings']>[number];
