import type { InferResponseType } from 'hono/client';
import { createContext, createResource, onCleanup, type ParentProps, useContext } from 'solid-js';
import { ApiError, api, SIGNED_OUT_EVENT, unwrap } from './api';

export type Me = InferResponseType<typeof api.api.auth.me.$get, 200>;
export type User = Me['user'];

export interface Session {
  /** The signed-in user; null when signed out; undefined while it is being asked. */
  me(): Me | null | undefined;
  isAdmin(): boolean;
  /** Asks the server again (after signing in or out). */
  refresh(): Promise<unknown>;
}

const SessionContext = createContext<Session>();

/** Who is signed in, asked once at start and again whenever the server says the session ended. */
export function SessionProvider(props: ParentProps) {
  const [me, { refetch, mutate }] = createResource(async () => {
    try {
      return await unwrap(api.api.auth.me.$get());
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) return null;
      throw error;
    }
  });
  const signedOut = () => mutate(null);
  window.addEventListener(SIGNED_OUT_EVENT, signedOut);
  onCleanup(() => window.removeEventListener(SIGNED_OUT_EVENT, signedOut));
  const session: Session = {
    me: () => (me.error ? null : me.latest),
    isAdmin: () => me.latest?.user.role === 'admin',
    refresh: () => Promise.resolve(refetch()),
  };
  return <SessionContext.Provider value={session}>{props.children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside SessionProvider');
  return session;
}

/** The secret a one-time link carries in its fragment (`#token=…`), removed from the address bar once read. */
export function takeLinkToken(): string | null {
  const token = new URLSearchParams(window.location.hash.slice(1)).get('token');
  if (token) window.history.replaceState(window.history.state, '', window.location.pathname);
  return token;
}
