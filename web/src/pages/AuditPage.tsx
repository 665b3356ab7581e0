import type { InferResponseType } from 'hono/client';
import { createResource, createSignal, For, Show } from 'solid-js';
import { api, unwrap } from '../api';
import { ErrorNotice } from '../ui/ErrorNotice';
import { RelativeTime } from '../ui/RelativeTime';
import '../styles/accounts.css';

type AuditPageData = InferResponseType<typeof api.api.audit.$get, 200>;
type Entry = AuditPageData['items'][number];

const PAGE_SIZE = 100;

function detailText(detail: unknown): string {
  if (detail === null || typeof detail !== 'object' || Object.keys(detail).length === 0) return '';
  return JSON.stringify(detail);
}

/** Admins: who changed what (sites, settings, mutes, users, tokens) and who signed in, newest first. */
export default function AuditPage() {
  const [before, setBefore] = createSignal<number | undefined>(undefined);
  const [older, setOlder] = createSignal<Entry[]>([]);
  const [entries] = createResource(
    () => ({ before: before() }),
    ({ before: cursor }) =>
      unwrap(
        api.api.audit.$get({
          query: { limit: String(PAGE_SIZE), ...(cursor === undefined ? {} : { before: String(cursor) }) },
        }),
      ),
  );

  const shown = () => [...older(), ...(entries.error ? [] : (entries.latest?.items ?? []))];
  const showOlder = () => {
    const current = entries.latest;
    if (!current?.nextBefore) return;
    setOlder([...older(), ...current.items]);
    setBefore(current.nextBefore);
  };

  return (
    <>
      <div class="page-header">
        <div>
          <h1>Audit log</h1>
          <p>Every change made through Vigil, by whom, how they were signed in and from where.</p>
        </div>
      </div>
      <Show when={entries.error}>
        <ErrorNotice error={entries.error} />
      </Show>
      <section class="card" aria-labelledby="audit-heading">
        <h2 id="audit-heading" class="visually-hidden">
          Entries
        </h2>
        <Show when={shown().length > 0} fallback={<p class="muted">Nothing recorded yet.</p>}>
          <div class="table-wrap">
            <table aria-label="Audit log" aria-busy={entries.loading}>
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Who</th>
                  <th scope="col">Action</th>
                  <th scope="col">On</th>
                  <th scope="col">Details</th>
                  <th scope="col">From</th>
                </tr>
              </thead>
              <tbody>
                <For each={shown()}>
                  {(entry) => (
                    <tr data-action={entry.action}>
                      <td class="times">
                        <RelativeTime at={entry.at} />
                      </td>
                      <td>
                        {entry.actor}
                        <Show when={entry.via}>
                          <span class="muted"> · {entry.via}</span>
                        </Show>
                      </td>
                      <td>
                        <code>{entry.action}</code>
                      </td>
                      <td>{entry.target}</td>
                      <td class="audit-detail">{detailText(entry.detail)}</td>
                      <td>{entry.ip}</td>
                    </tr>
                  )}
                </For>
              </tbody>
            </table>
          </div>
          <Show when={!entries.error && entries.latest?.nextBefore}>
            <div class="form-actions">
              <button type="button" onClick={showOlder}>
                Show older entries
              </button>
            </div>
          </Show>
        </Show>
      </section>
    </>
  );
}
