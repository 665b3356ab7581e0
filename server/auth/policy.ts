import type { TokenScope } from '../db/schema';
import { isSafeMethod } from './request';
import type { SessionUser } from './sessions';

/** Who is asking: a user, signed in through a browser session or an API token. */
export interface Actor {
  user: SessionUser;
  via:
    | { kind: 'session'; idHash: string; expiresAt: Date }
    | { kind: 'token'; id: number; scope: TokenScope };
}

/** What a route asks of its caller. */
export interface Requirement {
  /** Only admins (viewers read and acknowledge). */
  admin: boolean;
  /** Changes something: a read-scoped token is not enough. */
  write: boolean;
  /** Needs a person at a browser: API tokens may not mint accounts, tokens or passwords. */
  session: boolean;
}

export type Access = 'public' | Requirement;

const READ: Requirement = { admin: false, write: false, session: false };
const ACKNOWLEDGE: Requirement = { admin: false, write: true, session: false };
const SELF: Requirement = { admin: false, write: true, session: true };
const ADMIN_READ: Requirement = { admin: true, write: false, session: false };
const ADMIN: Requirement = { admin: true, write: true, session: false };
const ADMIN_SESSION: Requirement = { admin: true, write: true, session: true };

/**
 * The exceptions to the default: reading needs any signed-in user, changing anything needs an admin.
 * Routes not listed here (including ones added later) get that default, so a new route is never open.
 */
export const ACCESS_RULES: Readonly<Record<string, Access>> = {
  'GET /healthz': 'public',
  'GET /api/version': 'public',
  'GET /api/auth/status': 'public',
  'POST /api/auth/setup': 'public',
  'POST /api/auth/login': 'public',
  'POST /api/auth/invitation': 'public',
  'POST /api/auth/invitation/accept': 'public',
  'POST /api/auth/logout': SELF,
  'POST /api/auth/logout-everywhere': SELF,
  'POST /api/auth/password': SELF,
  'POST /api/tokens': SELF,
  'DELETE /api/tokens/:id': SELF,
  'POST /api/incidents/:id/acknowledge': ACKNOWLEDGE,
  'GET /api/users': ADMIN_READ,
  'GET /api/users/invitations': ADMIN_READ,
  'GET /api/audit': ADMIN_READ,
  'POST /api/users/invitations': ADMIN_SESSION,
  'DELETE /api/users/invitations/:id': ADMIN_SESSION,
  'PATCH /api/users/:id': ADMIN_SESSION,
  'DELETE /api/users/:id': ADMIN_SESSION,
};

/** The access a route needs, by method and route pattern (`/api/sites/:id`); unknown routes need a signed-in user. */
export function accessFor(method: string, routePath: string | null): Access {
  const verb = method === 'HEAD' ? 'GET' : method;
  const rule = routePath === null ? undefined : ACCESS_RULES[`${verb} ${routePath}`];
  if (rule) return rule;
  return isSafeMethod(method) ? READ : ADMIN;
}

/** Why the actor may not do it (for the 403 message), or null when they may. */
export function refusal(actor: Actor, requirement: Requirement): string | null {
  if (requirement.admin && actor.user.role !== 'admin') return 'This needs the admin role; you are a viewer';
  if (requirement.session && actor.via.kind === 'token')
    return 'API tokens cannot do this; sign in to the dashboard';
  if (requirement.write && actor.via.kind === 'token' && actor.via.scope !== 'write')
    return 'This token has read scope; this needs a write-scoped token';
  return null;
}
