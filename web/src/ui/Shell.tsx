import { A, type RouteSectionProps, useLocation, useNavigate } from '@solidjs/router';
import { createEffect, createResource, on, type ParentProps, Show, Suspense } from 'solid-js';
import { api, unwrap } from '../api';
import { paths } from '../paths';
import { SessionProvider, useSession } from '../session';
import { createClock, NowProvider } from './clock';
import '../styles/accounts.css';

/** Pages for people who are not signed in (yet). */
const PUBLIC_PATHS = new Set([paths.login(), paths.setup(), paths.invite()]);

function Version() {
  const [version] = createResource(() => unwrap(api.api.version.$get()));
  return <Show when={version()}>{(info) => <span class="topbar-version">Vigil {info().version}</span>}</Show>;
}

/** Who is signed in, and the way out. */
function Account() {
  const session = useSession();
  const signOut = async () => {
    await api.api.auth.logout.$post().catch(() => undefined);
    await session.refresh();
  };
  return (
    <Show when={session.me()}>
      {(me) => (
        <div class="topbar-account">
          <A href={paths.account()} activeClass="active" title="Your account and API tokens">
            {me().user.name || me().user.email}
            <span class="role-badge">{me().user.role}</span>
          </A>
          <button type="button" class="small" onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      )}
    </Show>
  );
}

/** The frame around every page: skip link, navigation, who is signed in, and one clock for relative times. */
export function Shell(props: ParentProps<RouteSectionProps>) {
  return (
    <SessionProvider>
      <Frame {...props} />
    </SessionProvider>
  );
}

function Frame(props: ParentProps<RouteSectionProps>) {
  const now = createClock();
  const location = useLocation();
  const navigate = useNavigate();
  const session = useSession();
  const isPublic = () => PUBLIC_PATHS.has(location.pathname);
  // Signed out (or the session ended) on a page that needs an account: to the login page, and back after.
  createEffect(() => {
    if (session.me() === null && !isPublic())
      navigate(paths.login(`${location.pathname}${location.search}`), { replace: true });
  });
  let main!: HTMLElement;
  // After client-side navigation, move focus to the new page so screen readers announce it.
  createEffect(
    on(
      () => location.pathname,
      () => main.focus({ preventScroll: true }),
      { defer: true },
    ),
  );

  return (
    <NowProvider value={now}>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <div class="topbar-inner">
          <A href={paths.overview()} class="brand" end>
            <img src="/favicon.svg" alt="" width="24" height="24" />
            Vigil
          </A>
          <Show when={session.me() && !isPublic()}>
            <nav class="nav" aria-label="Main">
              <A href={paths.overview()} end activeClass="active">
                Fleet
              </A>
              <Show when={session.isAdmin()}>
                <A href={paths.addSites()} activeClass="active">
                  Add sites
                </A>
              </Show>
              <A href={paths.incidents()} activeClass="active">
                Incidents
              </A>
              <A href={paths.settings()} activeClass="active">
                Settings
              </A>
              <Show when={session.isAdmin()}>
                <A href={paths.users()} activeClass="active">
                  Users
                </A>
                <A href={paths.audit()} activeClass="active">
                  Audit log
                </A>
              </Show>
            </nav>
          </Show>
          <Version />
          <Show when={!isPublic()}>
            <Account />
          </Show>
        </div>
      </header>
      <main id="main" ref={main} tabindex="-1">
        {/* Pages load alongside the session check (no extra round trip); signed out, the effect above leaves. */}
        <Show when={isPublic() || session.me() !== null} fallback={<p class="muted">Loading…</p>}>
          <Suspense fallback={<p class="muted">Loading…</p>}>{props.children}</Suspense>
        </Show>
      </main>
    </NowProvider>
  );
}
