import { A, useSearchParams } from '@solidjs/router';
import type { InferRequestType, InferResponseType } from 'hono/client';
import { createEffect, createResource, createSignal, For, onCleanup, Show } from 'solid-js';
import { api, describeError, unwrap } from '../api';
import { paths } from '../paths';
import { ErrorNotice } from '../ui/ErrorNotice';
import { Pagination } from '../ui/Pagination';
import { RelativeTime } from '../ui/RelativeTime';
import './incidents.css';

type IncidentQuery = InferRequestType<typeof api.api.incidents.$get>['query'];
type IncidentList = InferResponseType<typeof api.api.incidents.$get, 200>;
export type Incident = IncidentList['items'][number];

const PAGE_SIZE = 50;
const POLL_MS = 30_000;
const HOUR_MS = 3_600_000;
const MUTE_FOR = [
  { label: '1 day', hours: 24 },
  { label: '1 week', hours: 7 * 24 },
  { label: '30 days', hours: 30 * 24 },
] as const;

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Open and past incidents across the fleet: acknowledge one, or mute its finding on its site for a while. */
export default function IncidentsPage() {
  const [params, setParams] = useSearchParams();
  const status = (): 'open' | 'past' => (single(params.status) === 'past' ? 'past' : 'open');
  const siteFilter = () => single(params.site) ?? '';
  const page = () => Math.max(1, Number(single(params.page)) || 1);

  const query = (): IncidentQuery => ({
    status: status(),
    siteId: siteFilter() || undefined,
    limit: String(PAGE_SIZE),
    offset: String((page() - 1) * PAGE_SIZE),
  });
  const [incidents, { refetch }] = createResource(query, (input) =>
    unwrap(api.api.incidents.$get({ query: input })),
  );
  const [sites] = createResource(() => unwrap(api.api.sites.$get({ query: { limit: '1000' } })));

  createEffect(() => {
    if (incidents.loading) return;
    const timer = setTimeout(() => void refetch(), POLL_MS);
    onCleanup(() => clearTimeout(timer));
  });

  const setFilter = (changes: Record<string, string | undefined>) =>
    setParams({ ...changes, page: undefined }, { replace: true });

  return (
    <>
      <div class="page-header">
        <div>
          <h1>Incidents</h1>
          <p>
            Regressions confirmed by a second scan. Acknowledge one to stop its reminders; mute a finding to
            stop its mails for a while.
          </p>
        </div>
      </div>
      <section class="card" aria-labelledby="incidents-heading">
        <h2 id="incidents-heading" class="visually-hidden">
          {status() === 'open' ? 'Open incidents' : 'Past incidents'}
        </h2>
        <form class="toolbar" aria-label="Filter incidents" onSubmit={(event) => event.preventDefault()}>
          <fieldset class="segmented">
            <legend class="visually-hidden">Show</legend>
            <button
              type="button"
              aria-pressed={status() === 'open'}
              onClick={() => setFilter({ status: undefined })}
            >
              Open
            </button>
            <button
              type="button"
              aria-pressed={status() === 'past'}
              onClick={() => setFilter({ status: 'past' })}
            >
              Past
            </button>
          </fieldset>
          <div class="field">
            <label for="incident-site">Site</label>
            <select
              id="incident-site"
              value={siteFilter()}
              onChange={(event) => setFilter({ site: event.currentTarget.value || undefined })}
            >
              <option value="">All sites</option>
              <For each={sites.latest?.items ?? []}>
                {(site) => <option value={String(site.id)}>{site.host}</option>}
              </For>
            </select>
          </div>
        </form>

        <Show when={incidents.error}>
          <ErrorNotice error={incidents.error} onRetry={refetch} />
        </Show>
        <Show when={incidents.latest}>
          {(data) => (
            <Show
              when={data().items.length > 0}
              fallback={
                <p class="muted empty-incidents">
                  {status() === 'open'
                    ? 'No open incidents: every regression has been fixed or nothing has regressed.'
                    : 'No past incidents yet.'}
                </p>
              }
            >
              <div class="table-wrap">
                <table class="incidents" aria-busy={incidents.loading}>
                  <thead>
                    <tr>
                      <th scope="col">Severity</th>
                      <th scope="col">Problem</th>
                      <th scope="col">Site</th>
                      <th scope="col">{status() === 'open' ? 'Open since' : 'Resolved'}</th>
                      <th scope="col">State</th>
                      <th scope="col">
                        <span class="visually-hidden">Actions</span>
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    <For each={data().items}>
                      {(incident) => <IncidentRow incident={incident} onChange={() => void refetch()} />}
                    </For>
                  </tbody>
                </table>
              </div>
              <Pagination
                page={page()}
                pageSize={PAGE_SIZE}
                total={data().total}
                onPage={(next) => setParams({ page: next > 1 ? String(next) : undefined })}
              />
            </Show>
          )}
        </Show>
      </section>
    </>
  );
}

function IncidentRow(props: { incident: Incident; onChange: () => void }) {
  const [busy, setBusy] = createSignal(false);
  const [error, setError] = createSignal<unknown>(null);
  const [reason, setReason] = createSignal('');
  const [muteHours, setMuteHours] = createSignal<number>(MUTE_FOR[0].hours);
  const incident = () => props.incident;
  const id = () => String(incident().id);

  const act = async (action: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await action();
      props.onChange();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  const acknowledge = () =>
    act(() => unwrap(api.api.incidents[':id'].acknowledge.$post({ param: { id: id() }, json: {} })));

  const mute = (event: SubmitEvent) => {
    event.preventDefault();
    void act(() =>
      unwrap(
        api.api.alerts.mutes.$post({
          json: {
            siteId: incident().siteId,
            key: incident().key,
            reason: reason().trim(),
            expiresAt: new Date(Date.now() + muteHours() * HOUR_MS).toISOString(),
          },
        }),
      ),
    );
  };

  return (
    <tr data-incident-id={incident().id} data-finding-id={incident().key}>
      <td>
        <span class={`sev sev-${incident().severity}`}>{incident().severity}</span>
      </td>
      <td class="incident-problem">
        <strong>{incident().title}</strong> <code>{incident().key}</code>
        <Show when={incident().evidence}>
          <div class="incident-evidence">{incident().evidence}</div>
        </Show>
      </td>
      <td class="site-name">
        <A href={paths.site(incident().siteId)}>{incident().host}</A>
      </td>
      <td class="times">
        <Show when={incident().status === 'open'} fallback={<RelativeTime at={incident().resolvedAt} />}>
          <RelativeTime at={incident().firstSeenAt} />
        </Show>
      </td>
      <td>
        <div class="incident-state">
          <Show when={incident().status === 'resolved'}>
            <span class="tag">resolved</span>
          </Show>
          <Show when={incident().acknowledgedAt}>
            {(at) => (
              <span class="tag acknowledged">
                Acknowledged <RelativeTime at={at()} />
              </span>
            )}
          </Show>
          <Show when={incident().muted}>
            {(muted) => (
              <span class="tag" title={muted().reason}>
                Muted until <RelativeTime at={muted().expiresAt} />
              </span>
            )}
          </Show>
          <Show when={incident().flapping}>
            <span class="tag">flapping</span>
          </Show>
        </div>
      </td>
      <td class="incident-actions">
        <Show when={incident().status === 'open'}>
          <div class="row">
            <Show when={!incident().acknowledgedAt}>
              <button type="button" class="small" disabled={busy()} onClick={() => void acknowledge()}>
                Acknowledge
              </button>
            </Show>
            <Show when={!incident().muted}>
              <details class="mute">
                <summary>Mute…</summary>
                <form class="stack" onSubmit={mute}>
                  <div class="field">
                    <label for={`mute-reason-${id()}`}>Why</label>
                    <input
                      id={`mute-reason-${id()}`}
                      required
                      maxlength={500}
                      value={reason()}
                      onInput={(event) => setReason(event.currentTarget.value)}
                    />
                  </div>
                  <div class="field">
                    <label for={`mute-for-${id()}`}>For</label>
                    <select
                      id={`mute-for-${id()}`}
                      value={String(muteHours())}
                      onChange={(event) => setMuteHours(Number(event.currentTarget.value))}
                    >
                      <For each={MUTE_FOR}>
                        {(entry) => <option value={String(entry.hours)}>{entry.label}</option>}
                      </For>
                    </select>
                  </div>
                  <button type="submit" class="small" disabled={busy() || reason().trim() === ''}>
                    Mute {incident().key} on this site
                  </button>
                </form>
              </details>
            </Show>
          </div>
        </Show>
        <Show when={error()}>
          <div class="error" role="alert">
            {describeError(error())}
          </div>
        </Show>
      </td>
    </tr>
  );
}
