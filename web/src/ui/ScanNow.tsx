import { createEffect, createResource, createSignal, Match, on, onCleanup, Show, Switch } from 'solid-js';
import { api, describeError, unwrap } from '../api';
import { formatDuration } from '../lib/format';

const POLL_MS = 1_000;

export interface ScanNowProps {
  siteId: number;
  /** A scan already queued or running for the site (e.g. its first, scheduled one). */
  activeScanId: number | null;
  /** Called once when the followed scan is done, to reload what depends on it. */
  onDone: () => void;
}

/** The scan-now button and the followed scan's live state: queued (position) → running → done. */
export function ScanNow(props: ScanNowProps) {
  const [followed, setFollowed] = createSignal<number | null>(null);
  const [requestError, setRequestError] = createSignal<unknown>(null);
  const [requesting, setRequesting] = createSignal(false);

  createEffect(
    on(
      () => props.activeScanId,
      (id) => {
        if (id !== null) setFollowed(id);
      },
    ),
  );

  const [scan, { refetch }] = createResource(followed, (id) =>
    unwrap(api.api.scans[':id'].$get({ param: { id: String(id) } })),
  );

  createEffect(() => {
    const current = scan.latest;
    if (scan.loading || !current || current.id !== followed()) return;
    if (current.state === 'done') {
      props.onDone();
      return;
    }
    const timer = setTimeout(() => void refetch(), POLL_MS);
    onCleanup(() => clearTimeout(timer));
  });

  const busy = () => {
    const current = scan.latest;
    return requesting() || (followed() !== null && current?.state !== 'done');
  };

  const start = async () => {
    setRequesting(true);
    setRequestError(null);
    try {
      const queued = await unwrap(api.api.sites[':id'].scan.$post({ param: { id: String(props.siteId) } }));
      setFollowed(queued.id);
    } catch (error) {
      setRequestError(error);
    } finally {
      setRequesting(false);
    }
  };

  return (
    <div class="stack">
      <div class="row">
        <button type="button" class="primary" onClick={start} disabled={busy()}>
          {busy() ? 'Scanning…' : 'Scan now'}
        </button>
        <div role="status" aria-live="polite" class="progress" data-state={scan.latest?.state ?? 'idle'}>
          <Show when={scan.latest}>
            {(current) => (
              <>
                <span class="dot" aria-hidden="true" />
                <Switch>
                  <Match when={current().state === 'queued'}>
                    Queued
                    {current().queuePosition ? ` (${current().queuePosition} ahead)` : ', starting'}…
                  </Match>
                  <Match when={current().state === 'running'}>Running the checks…</Match>
                  <Match when={current().state === 'done' && current().outcome === 'ok'}>
                    Scan finished: grade {current().grade}, score {current().score}
                    {current().durationMs !== null ? ` in ${formatDuration(current().durationMs ?? 0)}` : ''}
                  </Match>
                  <Match when={current().state === 'done'}>
                    Scan finished: {current().outcome === 'unreachable' ? 'site unreachable' : 'scan failed'}
                    {current().error ? ` (${current().error})` : ''}
                  </Match>
                </Switch>
              </>
            )}
          </Show>
        </div>
      </div>
      <Show when={requestError()}>
        <div class="notice error" role="alert">
          {describeError(requestError())}
        </div>
      </Show>
    </div>
  );
}
