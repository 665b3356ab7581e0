/** Every link target of the dashboard, built in one place next to the route table (routes.ts). */
export const paths = {
  overview: () => '/',
  addSites: () => '/sites/new',
  settings: () => '/settings',
  incidents: () => '/incidents',
  users: () => '/users',
  account: () => '/account',
  audit: () => '/audit',
  setup: () => '/setup',
  invite: () => '/invite',
  /** The login page, coming back to `next` (a path of this dashboard) afterwards. */
  login: (next?: string) => (next && next !== '/' ? `/login?${new URLSearchParams({ next })}` : '/login'),
  site: (siteId: number) => `/sites/${siteId}`,
  diff: (siteId: number, fromScanId?: number, toScanId?: number) => {
    const query = new URLSearchParams();
    if (fromScanId !== undefined) query.set('from', String(fromScanId));
    if (toScanId !== undefined) query.set('to', String(toScanId));
    const search = query.toString();
    return `/sites/${siteId}/diff${search ? `?${search}` : ''}`;
  },
};
