import { A, useParams, useSearchParams } from '@solidjs/router';
import { createResource, For, Show } from 'solid-js';
import { api, unwrap } from '../api';
import { absoluteTime, formatDelta, plural } from '../lib/format';
import { paths } from '../paths';
import { ErrorNotice } from '../ui/ErrorNotice';
import { FindingCard } from '../ui/FindingCard';
import { GradeBadge } from '../ui/GradeBadge';
import { SeverityChip } from '../ui/SeverityCounts';

const DAY_MS = 86_400_000;
/** Scans offered in the pickers: the last year's kept scans, newest first. */
const PICKABLE_DAYS = 365;
const PICKABLE_SCANS = 500;

const DIRECTION_TEXT = {
  better: 'better',
  worse: 'worse',
  same: 'unchanged',
  unknown: 'not comparable',
} as const;

export default function DiffPage() {
  const params = useParams();
  const [search, setSearch] = useSearchParams();
  const siteId = () => Number(params.id);

  const [site] = createResource(siteId, (id) =>
    unwrap(api.api.sites[':id'].$get({ param: { id: String(id) } })),
  );

  const [scans] = createResource(siteId, async (id) => {
    const page = await unwrap(
      api.api.sites[':id'].history.$get({
        param: { id: String(id) },
        query: { from: new Date(Date.now() - PICKABLE_DAYS * DAY_MS).toISOString(), limit: '5000' },
      }),
    );
    return page.items
      .flatMap((point) => (point.kind === 'scan' ? [point] : []))
      .reverse()
      .slice(0, PICKABLE_SCANS);
  });

  const chosen = (key: 'from' | 'to'): number | null => {
    const raw = search[key];
    const value = Number(Array.isArray(raw) ? raw[0] : raw);
    return Number.isInteger(value) && value > 0 ? value : null;
  };
  /** Default comparison: the newest scan against the one before it. */
  const toId = () => chosen('to') ?? scans.latest?.[0]?.scanId ?? null;
  const fromId = () => chosen('from') ?? scans.latest?.[1]?.scanId ?? null;

  const [diff] = createResource(
    () => {
      const from = fromId();
      const to = toId();
      return from !== null && to !== null && from !== to ? { from, to } : false;
    },
    ({ from, to }) =>
      unwrap(api.api.scans[':id'].diff[':other'].$get({ param: { id: String(from), other: String(to) } })),
  );

  const scanLabel = (scan: { at: string; grade: string | null; score: number | null; scanId: number }) =>
    `${absoluteTime(new Date(scan.at))} — ${scan.grade ?? 'no grade'}${scan.score !== null ? ` (${scan.score})` : ''} · #${scan.scanId}`;

  return (
    <>
      <nav class="breadcrumb" aria-label="Breadcrumb">
        <A href={paths.overview()}>Fleet</A> /{' '}
        <A href={paths.site(siteId())}>{site.latest?.host ?? 'Site'}</A> /{' '}
        <span aria-current="page">Compare scans</span>
      </nav>
      <div class="page-header">
        <div>
          <h1>Compare scans</h1>
          <p>What changed between two scans of {site.latest?.host ?? 'this site'}.</p>
        </div>
      </div>

      <Show when={scans.error}>
        <ErrorNotice error={scans.error} />
      </Show>
      <Show when={scans.latest}>
        {(list) => (
          <Show
            when={list().length >= 2}
            fallback={<p class="muted">This site needs at least two scans to compare.</p>}
          >
            <form class="card toolbar" onSubmit={(event) => event.preventDefault()}>
              <div class="field grow">
                <label for="diff-from">From (older)</label>
                <select
                  id="diff-from"
                  value={String(fromId() ?? '')}
                  onChange={(event) => setSearch({ from: event.currentTarget.value }, { replace: true })}
                >
                  <For each={list()}>
                    {(scan) => <option value={String(scan.scanId)}>{scanLabel(scan)}</option>}
                  </For>
                </select>
              </div>
              <div class="field grow">
                <label for="diff-to">To (newer)</label>
                <select
                  id="diff-to"
                  value={String(toId() ?? '')}
                  onChange={(event) => setSearch({ to: event.currentTarget.value }, { replace: true })}
                >
                  <For each={list()}>
                    {(scan) => <option value={String(scan.scanId)}>{scanLabel(scan)}</option>}
                  </For>
                </select>
              </div>
              <button
                type="button"
                onClick={() =>
                  setSearch({ from: String(toId() ?? ''), to: String(fromId() ?? '') }, { replace: true })
                }
              >
                ⇄ Swap
              </button>
            </form>
          </Show>
        )}
      </Show>

      <Show when={fromId() !== null && fromId() === toId()}>
        <p class="muted">Pick two different scans.</p>
      </Show>
      <Show when={diff.error}>
        <ErrorNotice error={diff.error} />
      </Show>
      <Show when={diff.latest}>
        {(result) => (
          <>
            <section class="card" aria-labelledby="grade-change-heading">
              <h2 id="grade-change-heading">Grade change</h2>
              <div class="diff-grades">
                <GradeBadge grade={result().grade.from} large />
                <span aria-hidden="true">→</span>
                <GradeBadge grade={result().grade.to} large />
                <span class={`trend ${result().grade.direction}`} data-direction={result().grade.direction}>
                  {DIRECTION_TEXT[result().grade.direction]}
                  <Show when={result().score.delta !== null && result().score.delta !== 0}>
                    {' '}
                    ({formatDelta(result().score.delta ?? 0)} points)
                  </Show>
                </span>
              </div>
              <p class="muted">
                {plural(result().added.length, 'finding')} added, {result().removed.length} removed,{' '}
                {result().changed.length} changed severity, {result().unchanged} unchanged.
              </p>
            </section>

            <section class="card diff-section" aria-labelledby="added-heading">
              <h2 id="added-heading">New findings ({result().added.length})</h2>
              <Show when={result().added.length > 0} fallback={<p class="muted">None.</p>}>
                <For each={result().added}>{(finding) => <FindingCard finding={finding} />}</For>
              </Show>
            </section>

            <section class="card diff-section" aria-labelledby="removed-heading">
              <h2 id="removed-heading">Fixed findings ({result().removed.length})</h2>
              <Show when={result().removed.length > 0} fallback={<p class="muted">None.</p>}>
                <ul class="diff-list removed">
                  <For each={result().removed}>
                    {(finding) => (
                      <li>
                        <SeverityChip severity={finding.severity} />
                        <strong>{finding.title}</strong>
                        <code class="muted">{finding.id}</code>
                      </li>
                    )}
                  </For>
                </ul>
              </Show>
            </section>

            <section class="card diff-section" aria-labelledby="changed-heading">
              <h2 id="changed-heading">Changed severity ({result().changed.length})</h2>
              <Show when={result().changed.length > 0} fallback={<p class="muted">None.</p>}>
                <ul class="diff-list changed">
                  <For each={result().changed}>
                    {(change) => (
                      <li>
                        <SeverityChip severity={change.from} />
                        <span aria-hidden="true">→</span>
                        <SeverityChip severity={change.to} />
                        <strong>{change.finding.title}</strong>
                        <span class={`trend ${change.direction}`}>{change.direction}</span>
                      </li>
                    )}
                  </For>
                </ul>
              </Show>
            </section>
          </>
        )}
      </Show>
    </>
  );
}
