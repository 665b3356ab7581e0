import { A, useSearchParams } from '@solidjs/router';
import type { InferRequestType } from 'hono/client';
import { createEffect, createResource, createSignal, For, Match, onCleanup, Show, Switch } from 'solid-js';
import { GRADES } from '../../../server/scan/grade';
import { api, type Overview, type OverviewItem, unwrap } from '../api';
import { type GradeFamily, gradeFamily } from '../lib/grades';
import { hasRegressed, regressedFirst } from '../lib/overview';
import { paths } from '../paths';
import { ErrorNotice } from '../ui/ErrorNotice';
import { GradeBadge } from '../ui/GradeBadge';
import { Pagination } from '../ui/Pagination';
import { RelativeTime } from '../ui/RelativeTime';
import { SeverityCounts } from '../ui/SeverityCounts';
import { SiteSparkline } from '../ui/SiteSparkline';
import { TrendArrow } from '../ui/TrendArrow';

const PAGE_SIZE = 25;
const TREND_DAYS = 7;
/** Poll fast while scans are queued or running so new grades show up without a reload. */
const BUSY_POLL_MS = 2_000;
const IDLE_POLL_MS = 60_000;

type OverviewQuery = InferRequestType<typeof api.api.overview.$get>['query'];
type SortKey = NonNullable<OverviewQuery['sort']>;
type SortOrder = NonNullable<OverviewQuery['order']>;

const SORTS: { key: SortKey; label: string; defaultOrder: SortOrder }[] = [
  { key: 'grade', label: 'Worst grade first', defaultOrder: 'desc' },
  { key: 'score', label: 'Lowest score first', defaultOrder: 'asc' },
  { key: 'host', label: 'Host name A–Z', defaultOrder: 'asc' },
  { key: 'lastScan', label: 'Most recently scanned', defaultOrder: 'desc' },
  { key: 'nextScan', label: 'Next scan soonest', defaultOrder: 'asc' },
];

const FAMILIES: GradeFamily[] = ['a', 'b', 'c', 'd', 'f'];

/** Grade filter values: a whole letter family ("A+,A,A-") or sites not graded yet. */
function familyGrades(family: GradeFamily): string {
  return GRADES.filter((grade) => gradeFamily(grade) === family).join(',');
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function isSortKey(value: string | undefined): value is SortKey {
  return SORTS.some((sort) => sort.key === value);
}

export default function OverviewPage() {
  const [params, setParams] = useSearchParams();
  const sort = (): SortKey => {
    const value = single(params.sort);
    return isSortKey(value) ? value : 'grade';
  };
  const order = (): SortOrder | undefined => {
    const value = single(params.order);
    return value === 'asc' || value === 'desc' ? value : undefined;
  };
  const page = () => Math.max(1, Number(single(params.page)) || 1);
  const gradeFilter = () => single(params.grade) ?? '';
  const tagFilter = () => single(params.tag) ?? '';
  const textFilter = () => single(params.q) ?? '';

  const query = (): OverviewQuery => ({
    sort: sort(),
    order: order(),
    grade: gradeFilter() || undefined,
    tag: tagFilter() || undefined,
    q: textFilter() || undefined,
    limit: String(PAGE_SIZE),
    offset: String((page() - 1) * PAGE_SIZE),
  });

  const [overview, { refetch }] = createResource(query, (input) =>
    unwrap(api.api.overview.$get({ query: input })),
  );

  createEffect(() => {
    const data = overview.latest;
    if (overview.loading) return;
    const waitingForFirstScan =
      data?.items.some((item) => item.latest === null && item.site.enabled) ?? false;
    const busy =
      data !== undefined && (data.fleet.queued > 0 || data.fleet.running > 0 || waitingForFirstScan);
    const timer = setTimeout(() => void refetch(), busy ? BUSY_POLL_MS : IDLE_POLL_MS);
    onCleanup(() => clearTimeout(timer));
  });

  const setFilter = (changes: Record<string, string | undefined>) =>
    setParams({ ...changes, page: undefined }, { replace: true });

  const [text, setText] = createSignal(textFilter());
  let typing: ReturnType<typeof setTimeout> | undefined;
  onCleanup(() => clearTimeout(typing));
  const onSearch = (value: string) => {
    setText(value);
    clearTimeout(typing);
    typing = setTimeout(() => setFilter({ q: value.trim() || undefined }), 250);
  };

  const defaultOrderOf = (key: SortKey): SortOrder =>
    SORTS.find((entry) => entry.key === key)?.defaultOrder ?? 'asc';
  const currentOrder = () => order() ?? defaultOrderOf(sort());
  /** A column header sorts by its column; pressed again, it flips the direction. */
  const sortBy = (key: SortKey) => {
    const flipped: SortOrder = currentOrder() === 'asc' ? 'desc' : 'asc';
    const next = key === sort() ? flipped : defaultOrderOf(key);
    setFilter({ sort: key, order: next === defaultOrderOf(key) ? undefined : next });
  };
  const ariaSort = (key: SortKey) => {
    if (sort() !== key) return undefined;
    return currentOrder() === 'asc' ? 'ascending' : 'descending';
  };

  const filtered = () => Boolean(gradeFilter() || tagFilter() || textFilter());

  return (
    <>
      <div class="page-header">
        <div>
          <h1>Fleet</h1>
          <Show when={(overview.latest?.fleet.sites ?? 0) > 0}>
            <p>
              Every site's security posture, worst first. Sites that got worse this week are pinned on top.
            </p>
          </Show>
        </div>
        <A class="button primary" href={paths.addSites()}>
          Add sites
        </A>
      </div>

      <Show when={overview.error}>
        <ErrorNotice error={overview.error} onRetry={refetch} />
      </Show>

      <Show
        when={overview.latest}
        fallback={
          <Show when={!overview.error}>
            <p class="muted">Loading the fleet…</p>
          </Show>
        }
      >
        {(data) => (
          <Show when={data().fleet.sites > 0} fallback={<EmptyFleet />}>
            <FleetSummary fleet={data().fleet} />
            <section class="card" aria-labelledby="sites-heading">
              <h2 id="sites-heading" class="visually-hidden">
                Sites
              </h2>
              <form
                class="toolbar"
                aria-label="Filter and sort sites"
                onSubmit={(event) => event.preventDefault()}
              >
                <div class="field grow">
                  <label for="filter-text">Search</label>
                  <input
                    id="filter-text"
                    type="search"
                    placeholder="Host or label"
                    value={text()}
                    onInput={(event) => onSearch(event.currentTarget.value)}
                  />
                </div>
                <div class="field">
                  <label for="filter-grade">Grade</label>
                  <select
                    id="filter-grade"
                    value={gradeFilter()}
                    onChange={(event) => setFilter({ grade: event.currentTarget.value || undefined })}
                  >
                    <option value="">All grades</option>
                    <For each={FAMILIES}>
                      {(family) => <option value={familyGrades(family)}>{family.toUpperCase()}</option>}
                    </For>
                    <option value="none">Not graded</option>
                  </select>
                </div>
                <div class="field">
                  <label for="filter-tag">Tag</label>
                  <input
                    id="filter-tag"
                    type="text"
                    placeholder="e.g. prod"
                    value={tagFilter()}
                    onChange={(event) => setFilter({ tag: event.currentTarget.value.trim() || undefined })}
                  />
                </div>
                <div class="field wide-on-phone">
                  <label for="sort">Sort</label>
                  <select
                    id="sort"
                    value={sort()}
                    onChange={(event) => setFilter({ sort: event.currentTarget.value, order: undefined })}
                  >
                    <For each={SORTS}>{(entry) => <option value={entry.key}>{entry.label}</option>}</For>
                  </select>
                </div>
                <Show when={filtered()}>
                  <button
                    type="button"
                    onClick={() => {
                      setText('');
                      setFilter({ grade: undefined, tag: undefined, q: undefined });
                    }}
                  >
                    Clear filters
                  </button>
                </Show>
              </form>

              <Show
                when={data().items.length > 0}
                fallback={<p class="muted">No sites match these filters.</p>}
              >
                <div class="table-wrap">
                  <table class="responsive" aria-busy={overview.loading}>
                    <thead>
                      <tr>
                        <th scope="col" aria-sort={ariaSort('grade')}>
                          <button type="button" class="sort" onClick={() => sortBy('grade')}>
                            Grade
                          </button>
                        </th>
                        <th scope="col" aria-sort={ariaSort('host')}>
                          <button type="button" class="sort" onClick={() => sortBy('host')}>
                            Site
                          </button>
                        </th>
                        <th scope="col" aria-sort={ariaSort('score')}>
                          <button type="button" class="sort" onClick={() => sortBy('score')}>
                            Score, 30 days
                          </button>
                        </th>
                        <th scope="col">Findings</th>
                        <th scope="col">{TREND_DAYS}-day trend</th>
                        <th scope="col" aria-sort={ariaSort('lastScan')}>
                          <button type="button" class="sort" onClick={() => sortBy('lastScan')}>
                            Last scan
                          </button>
                        </th>
                        <th scope="col" aria-sort={ariaSort('nextScan')}>
                          <button type="button" class="sort" onClick={() => sortBy('nextScan')}>
                            Next scan
                          </button>
                        </th>
                      </tr>
                    </thead>
                    <tbody>
                      <For each={regressedFirst(data().items)}>
                        {(item) => <SiteRow item={item} onTag={(tag) => setFilter({ tag })} />}
                      </For>
                    </tbody>
                  </table>
                </div>
              </Show>
              <Pagination
                page={page()}
                pageSize={PAGE_SIZE}
                total={data().total}
                onPage={(next) => setParams({ page: next === 1 ? undefined : String(next) })}
              />
            </section>
          </Show>
        )}
      </Show>
    </>
  );
}

function SiteRow(props: { item: OverviewItem; onTag: (tag: string) => void }) {
  const item = () => props.item;
  return (
    <tr classList={{ regressed: hasRegressed(item()) }} data-host={item().site.host}>
      <td data-cell="grade">
        <GradeBadge grade={item().latest?.grade ?? null} />
      </td>
      <td data-cell="site" class="site-name">
        <A href={paths.site(item().site.id)}>{item().site.host}</A>
        <Show when={hasRegressed(item())}>
          {' '}
          <span class="regressed-flag">regressed</span>
        </Show>
        <Show when={item().site.label}>
          <div class="label">{item().site.label}</div>
        </Show>
        <Show when={item().site.tags.length > 0}>
          <div class="tags">
            <For each={item().site.tags}>
              {(tag) => (
                <button
                  type="button"
                  class="tag"
                  title={`Show sites tagged ${tag}`}
                  onClick={() => props.onTag(tag)}
                >
                  {tag}
                </button>
              )}
            </For>
          </div>
        </Show>
      </td>
      <td data-cell="spark">
        <div class="row">
          <SiteSparkline siteId={item().site.id} latestScanId={item().latest?.scanId ?? null} />
          <Show when={item().latest?.score != null}>
            <span>{item().latest?.score}</span>
          </Show>
        </div>
      </td>
      <td data-cell="counts">
        <SeverityCounts counts={item().latest?.counts ?? null} />
      </td>
      <td data-cell="trend" data-label={`${TREND_DAYS}-day trend`}>
        <TrendArrow trend={item().trend} days={TREND_DAYS} />
      </td>
      <td data-cell="last" data-label="Last scan" class="times">
        <Switch
          fallback={
            <>
              <RelativeTime at={item().latest?.finishedAt ?? null} fallback="never" />
              <Show when={item().latest?.outcome === 'unreachable'}>
                <div class="result-invalid">unreachable</div>
              </Show>
              <Show when={item().latest?.outcome === 'error'}>
                <div class="result-invalid">scan failed</div>
              </Show>
            </>
          }
        >
          <Match when={item().activeScan?.state === 'running'}>
            <span class="progress" data-state="running">
              <span class="dot" aria-hidden="true" /> scanning…
            </span>
          </Match>
          <Match when={item().activeScan?.state === 'queued'}>
            <span class="progress" data-state="queued">
              <span class="dot" aria-hidden="true" /> queued
            </span>
          </Match>
        </Switch>
      </td>
      <td data-cell="next" data-label="Next scan" class="times">
        <Show when={item().site.enabled} fallback={<span class="muted">paused</span>}>
          <RelativeTime at={item().nextScanAt} />
        </Show>
      </td>
    </tr>
  );
}

function FleetSummary(props: { fleet: Overview['fleet'] }) {
  const byFamily = () =>
    FAMILIES.map((family) => ({
      family,
      count: GRADES.filter((grade) => gradeFamily(grade) === family).reduce(
        (sum, grade) => sum + (props.fleet.byGrade[grade] ?? 0),
        0,
      ),
    }));
  return (
    <section class="card" aria-label="Fleet summary">
      <div class="row">
        <strong>{props.fleet.sites} sites</strong>
        <For each={byFamily()}>
          {(entry) => (
            <Show when={entry.count > 0}>
              <span class="row">
                <GradeBadge
                  grade={entry.family === 'f' ? 'F' : (entry.family.toUpperCase() as 'A' | 'B' | 'C' | 'D')}
                />
                <span>× {entry.count}</span>
              </span>
            </Show>
          )}
        </For>
        <Show when={props.fleet.byGrade.none > 0}>
          <span class="muted">{props.fleet.byGrade.none} not graded yet</span>
        </Show>
        <Show when={props.fleet.running + props.fleet.queued > 0}>
          <span class="progress" data-state="running">
            <span class="dot" aria-hidden="true" />
            {props.fleet.running} scanning, {props.fleet.queued} queued
          </span>
        </Show>
      </div>
    </section>
  );
}

function EmptyFleet() {
  return (
    <section class="card empty" aria-labelledby="empty-heading">
      <h2 id="empty-heading">No sites yet</h2>
      <p>
        Vigil watches the security posture of your Django sites: TLS, security headers, cookies, DEBUG pages,
        exposed files and DNS/e-mail records. Add a site and its first scan starts within seconds.
      </p>
      <p>Add one host at a time, or paste a CSV with one site per line:</p>
      <pre class="code">
        host,label,tags,interval{'\n'}shop.example.com,Shop,prod;eu,6h{'\n'}blog.example.org
      </pre>
      <p>
        <A class="button primary" href={paths.addSites()}>
          Add your first sites
        </A>
      </p>
    </section>
  );
}
