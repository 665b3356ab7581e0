import type { SitePresetName } from '../server/testing/presets';

/** The fixture fleet the journeys use: name → how the site starts out. */
export const E2E_SITES = {
  shop: 'hardened',
  blog: 'debug',
  docs: 'headers-missing',
  wiki: 'no-redirect',
} as const satisfies Record<string, SitePresetName>;

export type E2eSiteName = keyof typeof E2E_SITES;
