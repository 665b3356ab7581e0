import { fileURLToPath } from 'node:url';
import { test as base, type Page } from '@playwright/test';
import type { SitePresetName } from '../server/testing/presets';
import type { E2eSiteName } from './sites';

export { expect } from '@playwright/test';

function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value)
    throw new Error(`${name} is not set: run the suite through e2e/playwright.config.ts (global setup)`);
  return value;
}

/** The fixture fleet as the journeys see it: host names, and switching a site to another preset. */
export interface E2eFleet {
  host(name: E2eSiteName): string;
  switchTo(name: E2eSiteName, preset: SitePresetName): Promise<void>;
}

/** The admin the first-run journey creates; every journey runs signed in as them unless it says otherwise. */
export const ADMIN = { email: 'admin@example.test', name: 'Ada Admin', password: 'copper-heron-lantern-77' };

/** Where the first-run journey saves the admin's signed-in browser state. */
export function adminStateFile(): string {
  return requireEnv('VIGIL_E2E_ADMIN_STATE');
}

export const test = base.extend<{ fleet: E2eFleet }>({
  // biome-ignore lint/correctness/noEmptyPattern: Playwright reads a fixture's dependencies from this pattern
  baseURL: async ({}, use) => use(requireEnv('VIGIL_E2E_URL')),
  // biome-ignore lint/correctness/noEmptyPattern: as above
  storageState: async ({}, use) => use(adminStateFile()),
  // biome-ignore lint/correctness/noEmptyPattern: as above
  fleet: async ({}, use) => {
    const hosts = JSON.parse(requireEnv('VIGIL_E2E_HOSTS')) as Record<string, string>;
    const control = requireEnv('VIGIL_E2E_CONTROL');
    await use({
      host: (name) => {
        const host = hosts[name];
        if (!host) throw new Error(`no fleet site ${name}`);
        return host;
      },
      switchTo: async (name, preset) => {
        const response = await fetch(`${control}/reconfigure`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ name, preset }),
        });
        if (response.status !== 204) throw new Error(`reconfigure failed: ${await response.text()}`);
      },
    });
  },
});

/** Saves a full-page screenshot under e2e/screenshots/ for a person to look at. */
export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({
    path: fileURLToPath(new URL(`./screenshots/${name}.png`, import.meta.url)),
    fullPage: true,
  });
}
