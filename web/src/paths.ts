/** Every link target of the dashboard, built in one place next to the route table (routes.ts). */
export const paths = {
  overview: () => '/',
  addSites: () => '/sites/new',
  settings: () => '/settings',
  incidents: () => '/incidents',
  site: (siteId: number) => `/sites/${siteId}`,
  diff: (siteId: number, fromScanId?: number, toScanId?: number) => {
    const query = new URLSearchParams();
    if (fromScanId !== undefined) query.set('from', String(fromScanId));
    if (toScanId !== undefined) query.set('to', String(toScanId));
    const search = query.toString();
    return `/sites/${siteId}/diff${search ? `?${search}` : ''}`;
  },
};
