import { createResource, createSignal, onCleanup, onMount, Suspense } from 'solid-js';
import { api, unwrap } from '../api';
import { Sparkline } from './Sparkline';

const SPARK_DAYS = 30;
const DAY_MS = 86_400_000;

/**
 * A site's score over the last 30 days. Loaded once the row is on screen (so the table paints first and
 * rows scrolled away cost nothing) and again only when the site has a new scan.
 */
export function SiteSparkline(props: { siteId: number; latestScanId: number | null }) {
  let box!: HTMLSpanElement;
  const [onScreen, setOnScreen] = createSignal(false);
  onMount(() => {
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) {
        setOnScreen(true);
        observer.disconnect();
      }
    });
    observer.observe(box);
    onCleanup(() => observer.disconnect());
  });

  const [history] = createResource(
    () => onScreen() && { siteId: props.siteId, latestScanId: props.latestScanId },
    ({ siteId }) =>
      unwrap(
        api.api.sites[':id'].history.$get({
          param: { id: String(siteId) },
          query: { from: new Date(Date.now() - SPARK_DAYS * DAY_MS).toISOString(), limit: '500' },
        }),
      ),
  );
  const points = () =>
    (history.latest?.items ?? []).flatMap((item) =>
      item.score === null ? [] : [{ at: item.at, score: item.score }],
    );
  // Its own boundary: sparklines loading must not hold back the table they sit in.
  return (
    <span ref={box}>
      <Suspense fallback={<Sparkline points={[]} />}>
        <Sparkline points={points()} />
      </Suspense>
    </span>
  );
}
