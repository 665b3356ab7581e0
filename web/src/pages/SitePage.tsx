import { A, useNavigate, useParams, useSearchParams } from '@solidjs/router';
import { createEffect, createResource, createSignal, For, onCleanup, Show, Suspense } from 'solid-js';
import { api, describeError, type HistoryPoint, unwrap } from '../api';
import { absoluteTime, formatDuration, formatInterval, plural } from '../lib/format';
import { scanIdOf, toChartPoints } from '../lib/history';
import { paths } from '../paths';
import { ErrorNotice } from '../ui/ErrorNotice';
import { sourcePlace } from '../ui/FindingCard';
import { FindingsBySeverity } from '../ui/FindingsBySeverity';
import { GradeBadge } from '../ui/GradeBadge';
import { PostureChart } from '../ui/PostureChart';
import { RelativeTime } from '../ui/RelativeTime';
import { ScanNow } from '../ui/ScanNow';
import { SeverityCounts } from '../ui/SeverityCounts';

const DAY_MS = 86_400_000;
const RANGES = [
  { key: '7d', label: '7 days', days: 7 },
  { key: '30d', label: '30 days', days: 30 },
  { key: '1y', label: '1 year', days: 365 },
] as const;
type RangeKey = (typeof RANGES)[number]['key'];

/** Pages of history fetched for one chart; 1 year of 5-minute scans is ~105k points, so cap it. */
const HISTORY_PAGE = 5000;
const MAX_HISTORY_PAGES = 4;
/** While a new site waits for its first scan, look again this often. */
const WAITING_POLL_MS = 2_000;

async function loadHistory(siteId: number, fromMs: number): Promise<HistoryPoint[]> {
  const items: HistoryPoint[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_HISTORY_PAGES; page += 1) {
    const query: { from: string; limit: string; cursor?: string } = {
      from: new Date(fromMs).toISOString(),
      limit: String(HISTORY_PAGE),
    };
    if (cursor) query.cursor = cursor;
    const result = await unwrap(api.api.sites[':id'].history.$get({ param: { id: String(siteId) }, query }));
    items.push(...result.items);
    if (!result.nextCursor) break;
    cursor = result.nextCursor;
  }
  return items;
}

export default function SitePage() {
  const params = useParams();
  const navigate = useNavigate();
  const [search, setSearch] = useSearchParams();
  const siteId = () => Number(params.id);
  const range = (): RangeKey => {
    const value = search.range;
    return RANGES.some((entry) => entry.key === value) ? (value as RangeKey) : '30d';
  };
  const rangeDays = () => RANGES.find((entry) => entry.key === range())?.days ?? 30;

  const [site, { refetch: refetchSite }] = createResource(siteId, (id) =>
    unwrap(api.api.sites[':id'].$get({ param: { id: String(id) } })),
  );

  createEffect(() => {
    const current = site.latest;
    if (site.loading || !current || current.lastScanId !== null || current.activeScan) return;
    const timer = setTimeout(() => void refetchSite(), WAITING_POLL_MS);
    onCleanup(() => clearTimeout(timer));
  });

  const [latestScan] = createResource(
    () => site.latest?.lastScanId ?? undefined,
    (id) => unwrap(api.api.scans[':id'].$get({ param: { id: String(id) } })),
  );

  // The window is computed when the key changes, so "now" moves on with each new scan.
  const [history] = createResource(
    () => ({ siteId: siteId(), days: rangeDays(), lastScanId: site.latest?.lastScanId ?? null }),
    async ({ siteId: id, days }) => {
      const to = Date.now();
      const from = to - days * DAY_MS;
      return { from, to, items: await loadHistory(id, from) };
    },
  );

  const recentScans = () => [...(history.latest?.items ?? [])].reverse();

  const [removeError, setRemoveError] = createSignal<unknown>(null);
  const remove = async () => {
    const current = site.latest;
    if (!current || !confirm(`Stop monitoring ${current.host} and delete its history?`)) return;
    try {
      await unwrap(api.api.sites[':id'].$delete({ param: { id: String(current.id) } }));
      navigate(paths.overview());
    } catch (error) {
      setRemoveError(error);
    }
  };

  return (
    <>
      <nav class="breadcrumb" aria-label="Breadcrumb">
        <A href={paths.overview()}>Fleet</A> / <span aria-current="page">{site.latest?.host ?? 'Site'}</span>
      </nav>
      <Show when={site.error}>
        <ErrorNotice error={site.error} onRetry={refetchSite} />
      </Show>
      <Show
        when={site.latest}
        fallback={
          <Show when={!site.error}>
            <p class="muted">Loading the site…</p>
          </Show>
        }
      >
        {(current) => (
          <>
            <div class="page-header">
              <div class="site-summary">
                <GradeBadge grade={current().lastScan?.grade ?? null} large />
                <div class="facts">
                  <h1>{current().host}</h1>
                  <Show when={current().label}>
                    <span class="muted">{current().label}</span>
                  </Show>
                  <div class="row">
                    <Show when={current().lastScan?.score != null}>
                      <span>
                        Score <strong>{current().lastScan?.score}</strong>
                      </span>
                    </Show>
                    <SeverityCounts counts={current().lastScan?.counts ?? null} />
                    <For each={current().tags}>{(tag) => <span class="tag">{tag}</span>}</For>
                  </div>
                  <span class="muted">
                    Scanned <RelativeTime at={current().lastScan?.finishedAt ?? null} fallback="never" /> ·
                    every {formatInterval(current().intervalMinutes)} · next{' '}
                    <Show when={current().enabled} fallback="paused">
                      <RelativeTime at={current().nextScanAt} />
                    </Show>
                  </span>
                </div>
              </div>
              <ScanNow
                siteId={current().id}
                activeScanId={current().activeScan?.id ?? null}
                onDone={() => void refetchSite()}
              />
            </div>

            <section class="card" aria-labelledby="chart-heading">
              <div class="page-header">
                <h2 id="chart-heading">Posture over time</h2>
                <fieldset class="segmented">
                  <legend class="visually-hidden">Time range</legend>
                  <For each={RANGES}>
                    {(entry) => (
                      <button
                        type="button"
                        aria-pressed={range() === entry.key}
                        onClick={() =>
                          setSearch({ range: entry.key === '30d' ? undefined : entry.key }, { replace: true })
                        }
                      >
                        {entry.label}
                      </button>
                    )}
                  </For>
                </fieldset>
              </div>
              <Show when={history.error}>
                <ErrorNotice error={history.error} />
              </Show>
              <Suspense fallback={<p class="muted">Loading the chart…</p>}>
                <Show when={history.latest}>
                  {(data) => (
                    <Show
                      when={data().items.length > 0}
                      fallback={
                        <p class="muted">No scans in this range yet. The first scan draws the first point.</p>
                      }
                    >
                      <PostureChart
                        points={toChartPoints(data().items)}
                        from={data().from}
                        to={data().to}
                        label={`Score over the last ${RANGES.find((entry) => entry.key === range())?.label}: ${plural(data().items.length, 'scan')}`}
                      />
                      <div class="chart-legend" aria-hidden="true">
                        <span>
                          <span class="legend-swatch line" />
                          score
                        </span>
                        <span>
                          <span class="legend-swatch appeared" />
                          findings appeared
                        </span>
                        <span>
                          <span class="legend-swatch disappeared" />
                          findings disappeared
                        </span>
                        <span>background: grade bands A–F</span>
                      </div>
                    </Show>
                  )}
                </Show>
              </Suspense>
            </section>

            <div class="grid-2">
              <section class="card" aria-labelledby="findings-heading">
                <h2 id="findings-heading">Latest findings</h2>
                <Show when={current().lastScanId === null}>
                  <p class="muted">Not scanned yet: the first scan is on its way.</p>
                </Show>
                <Show when={latestScan.error}>
                  <ErrorNotice error={latestScan.error} />
                </Show>
                <Suspense fallback={<p class="muted">Loading the findings…</p>}>
                  <Show when={latestScan.latest}>
                    {(scan) => (
                      <>
                        <Show when={scan().outcome !== 'ok'}>
                          <div class="notice error" role="status">
                            {scan().outcome === 'unreachable'
                              ? 'Nothing answered on ports 80 or 443 at the last scan.'
                              : `The last scan could not run: ${scan().error ?? 'unknown error'}`}
                          </div>
                        </Show>
                        <FindingsBySeverity
                          findings={(scan().findings ?? []).filter((finding) => !sourcePlace(finding))}
                        />
                        <Show when={current().sourcePath}>
                          <h3 id="inside-heading">Inside: audit of {current().sourcePath}</h3>
                          <Show
                            when={(scan().findings ?? []).some((finding) => sourcePlace(finding))}
                            fallback={<p class="muted">The source audit found nothing.</p>}
                          >
                            <FindingsBySeverity
                              findings={(scan().findings ?? []).filter((finding) => sourcePlace(finding))}
                            />
                          </Show>
                        </Show>
                      </>
                    )}
                  </Show>
                </Suspense>
              </section>

              <div>
                <Suspense>
                  <Show when={latestScan.latest}>
                    {(scan) => (
                      <section class="card" aria-labelledby="facts-heading">
                        <h2 id="facts-heading">What the last scan saw</h2>
                        <dl class="facts-list">
                          <dt>Scanned</dt>
                          <dd>{scan().finishedAt ? absoluteTime(new Date(scan().finishedAt ?? '')) : '—'}</dd>
                          <Show when={scan().durationMs !== null}>
                            <dt>Took</dt>
                            <dd>{formatDuration(scan().durationMs ?? 0)}</dd>
                          </Show>
                          <dt>Addresses</dt>
                          <dd>{scan().addresses.join(', ') || '—'}</dd>
                          <dt>Django</dt>
                          <dd>
                            {scan().django?.detected
                              ? `detected (${scan().django?.signals.join(', ')})`
                              : 'not detected'}
                          </dd>
                          <Show when={scan().tls}>
                            {(tls) => (
                              <>
                                <dt>TLS</dt>
                                <dd>{tls().protocols.join(', ') || '—'}</dd>
                                <dt>Certificate</dt>
                                <dd>
                                  {tls().daysLeft !== null
                                    ? `expires in ${plural(tls().daysLeft ?? 0, 'day')}`
                                    : '—'}
                                  {tls().issuer ? ` · ${tls().issuer}` : ''}
                                </dd>
                              </>
                            )}
                          </Show>
                        </dl>
                      </section>
                    )}
                  </Show>
                </Suspense>

                <section class="card" aria-labelledby="history-heading">
                  <Suspense fallback={<p class="muted">Loading the history…</p>}>
                    <div class="page-header">
                      <h2 id="history-heading">Scan history</h2>
                      <Show when={recentScans().filter((point) => point.kind === 'scan').length > 1}>
                        <A class="button" href={paths.diff(current().id)}>
                          Compare scans
                        </A>
                      </Show>
                    </div>
                    <Show
                      when={recentScans().length > 0}
                      fallback={<p class="muted">No scans in this range.</p>}
                    >
                      <ol
                        class="history-list"
                        aria-label={`Scans in the last ${rangeDays()} days, newest first`}
                      >
                        <For each={recentScans()}>
                          {(point, index) => {
                            const scanId = scanIdOf(point);
                            const previousId = () => {
                              const older = recentScans()[index() + 1];
                              return older ? scanIdOf(older) : null;
                            };
                            return (
                              <li>
                                <GradeBadge grade={point.grade} />
                                <span>{point.score ?? '—'}</span>
                                <span class="when">
                                  <RelativeTime at={point.at} />
                                  {point.kind === 'day' ? ` · ${plural(point.scans, 'scan')} that day` : ''}
                                  {point.outcome && point.outcome !== 'ok' ? ` · ${point.outcome}` : ''}
                                </span>
                                <SeverityCounts counts={point.counts} />
                                <Show when={scanId !== null && previousId() !== null}>
                                  <A
                                    href={paths.diff(
                                      current().id,
                                      previousId() ?? undefined,
                                      scanId ?? undefined,
                                    )}
                                    aria-label={`Changes in the scan of ${absoluteTime(new Date(point.at))}`}
                                  >
                                    changes
                                  </A>
                                </Show>
                              </li>
                            );
                          }}
                        </For>
                      </ol>
                    </Show>
                  </Suspense>
                </section>

                <section class="card" aria-labelledby="manage-heading">
                  <h2 id="manage-heading">Manage</h2>
                  <p class="muted">
                    Added {absoluteTime(new Date(current().createdAt))}. Removing a site deletes its scan
                    history.
                  </p>
                  <button type="button" onClick={remove}>
                    Remove site
                  </button>
                  <Show when={removeError()}>
                    <div class="notice error" role="alert">
                      {describeError(removeError())}
                    </div>
                  </Show>
                </section>
              </div>
            </div>
          </>
        )}
      </Show>
    </>
  );
}
