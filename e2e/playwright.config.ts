import { defineConfig } from '@playwright/test';

/**
 * Journeys share one server and fleet (global-setup.ts) and build on each other, so they run in file order,
 * after the first-run journey (00-first-run.setup.ts) has created the admin whose signed-in browser they reuse.
 */
export default defineConfig({
  testDir: '.',
  projects: [
    { name: 'first-run', testMatch: /00-first-run\.setup\.ts/ },
    { name: 'journeys', testMatch: /.*\.spec\.ts/, dependencies: ['first-run'] },
  ],
  globalSetup: './global-setup.ts',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: 'list',
  outputDir: '../test-results',
  use: {
    browserName: 'chromium',
    headless: true,
    viewport: { width: 1280, height: 900 },
    trace: 'off',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: process.env.VIGIL_CHROMIUM ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    },
  },
});
