import { CATALOGUE } from '../server/scan/catalogue';
import { expect, screenshot, test } from './fixtures';

test('a site shows its findings with fixes, a live scan-now and the chart with points', async ({
  page,
  context,
  fleet,
}) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await page.goto('/');
  await page.getByRole('link', { name: fleet.host('blog'), exact: true }).click();
  await expect(page.getByRole('heading', { level: 1, name: fleet.host('blog') })).toBeVisible();

  // The finding reads as the catalogue says, with its Django setting, check ID and fix.
  const debug = page.locator('[data-finding-id="django.debug"]');
  const entry = CATALOGUE['django.debug'];
  await expect(debug.getByRole('heading')).toHaveText(entry.title);
  await expect(debug).toContainText(entry.django?.setting ?? '');
  await expect(debug).toContainText(entry.django?.checkId ?? '');
  const copy = debug.getByRole('button', { name: /Copy the fix/ });
  await copy.click();
  await expect(copy).toHaveText('Copied');
  const shownFix = await debug.locator('pre code').textContent();
  expect(await page.evaluate<string>('navigator.clipboard.readText()')).toBe(shownFix);

  // Findings are grouped by severity, worst first.
  const groups = page.locator('.severity-group');
  await expect(groups.first()).toHaveAttribute('aria-label', 'critical findings');

  const chart = page.locator('.chart-box');
  await expect(chart).toHaveAttribute('data-points', '1');

  await page.getByRole('button', { name: 'Scan now' }).click();
  const progress = page.locator('.progress[role="status"]');
  await expect(progress).toHaveText(/Queued|Running|Scan finished/);
  await expect(progress).toContainText('Scan finished: grade F', { timeout: 30_000 });
  await expect(page.getByRole('button', { name: 'Scan now' })).toBeEnabled();

  await expect(chart).toHaveAttribute('data-points', '2');
  await expect(chart.locator('canvas')).toBeVisible();
  await expect(page.locator('.history-list > li')).toHaveCount(2);

  await page.getByRole('button', { name: '7 days' }).click();
  await expect(page.getByRole('button', { name: '7 days' })).toHaveAttribute('aria-pressed', 'true');
  await expect(chart).toHaveAttribute('data-points', '2');
  await screenshot(page, '02-site-detail');

  await page.emulateMedia({ colorScheme: 'dark' });
  await expect(chart.locator('canvas')).toBeVisible();
  await screenshot(page, '02-site-detail-dark');
  await page.setViewportSize({ width: 390, height: 844 });
  await screenshot(page, '02-site-detail-phone');
});
