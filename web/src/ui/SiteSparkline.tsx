import { createResource } from 'solid-js';
import { api, unwrap } from '../api';
import { Sparkline } from './Sparkline';

const SPARK_DAYS = 30;
const DAY_MS = 86_400_000;

/** A site's score over the last 30 days; fetched again only when the site has a new scan. */
export function SiteSparkline(props: { siteId: number; latestScanId: number | null }) {
  const [history] = createResource(
    () => ({ siteId: props.siteId, latestScanId: props.latestScanId }),
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
  return <Sparkline points={points()} />;
}
