import { A, type RouteSectionProps, useLocation } from '@solidjs/router';
import { createEffect, createResource, on, type ParentProps, Show, Suspense } from 'solid-js';
import { api, unwrap } from '../api';
import { paths } from '../paths';
import { createClock, NowProvider } from './clock';

function Version() {
  const [version] = createResource(() => unwrap(api.api.version.$get()));
  return <Show when={version()}>{(info) => <span class="topbar-version">Vigil {info().version}</span>}</Show>;
}

/** The frame around every page: skip link, navigation, and one clock for relative times. */
export function Shell(props: ParentProps<RouteSectionProps>) {
  const now = createClock();
  const location = useLocation();
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
          <nav class="nav" aria-label="Main">
            <A href={paths.overview()} end activeClass="active">
              Fleet
            </A>
            <A href={paths.addSites()} activeClass="active">
              Add sites
            </A>
            <A href={paths.incidents()} activeClass="active">
              Incidents
            </A>
            <A href={paths.settings()} activeClass="active">
              Settings
            </A>
          </nav>
          <Version />
        </div>
      </header>
      <main id="main" ref={main} tabindex="-1">
        <Suspense fallback={<p class="muted">Loading…</p>}>{props.children}</Suspense>
      </main>
    </NowProvider>
  );
}
