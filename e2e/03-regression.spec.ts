import { CATALOGUE } from '../server/scan/catalogue';
import { expect, screenshot, test } from './fixtures';

test('a site that regresses shows the new finding, a chart marker and the diff', async ({ page, fleet }) => {
  await page.goto('/');
  await page.getByRole('link', { name: fleet.host('shop'), exact: true }).click();
  await expect(page.locator('.site-summary [aria-label^="Grade "]')).toHaveText('A+');
  await expect(page.locator('[data-finding-id="hsts.missing"]')).toHaveCount(0);

  // Someone deploys a config without HSTS.
  await fleet.switchTo('shop', 'hsts-missing');
  await page.getByRole('button', { name: 'Scan now' }).click();
  await expect(page.locator('.progress[role="status"]')).toContainText('Scan finished', { timeout: 30_000 });

  const hsts = page.locator('[data-finding-id="hsts.missing"]');
  await expect(hsts.getByRole('heading')).toHaveText(CATALOGUE['hsts.missing'].title);
  await expect(hsts).toContainText('SECURE_HSTS_SECONDS');
  await expect(hsts).toContainText('security.W004');
  await expect(page.locator('.site-summary [aria-label^="Grade "]')).not.toHaveText('A+');
  await expect(page.locator('.chart-box')).toHaveAttribute('data-appeared', '1');
  await screenshot(page, '03-site-regressed');

  // The newest scan's "changes" link compares it with the scan before.
  await page
    .getByRole('link', { name: /^Changes in the scan of/ })
    .first()
    .click();
  await expect(page.getByRole('heading', { level: 1, name: 'Compare scans' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'New findings (1)' })).toBeVisible();
  await expect(page.locator('[data-finding-id="hsts.missing"]')).toBeVisible();
  await expect(page.locator('[data-direction]')).toHaveAttribute('data-direction', 'worse');
  await expect(page.locator('.diff-grades [aria-label^="Grade "]').first()).toHaveText('A+');
  await screenshot(page, '03-diff');

  // Swapping the two scans reads the other way round.
  await page.getByRole('button', { name: /Swap/ }).click();
  await expect(page.getByRole('heading', { name: 'Fixed findings (1)' })).toBeVisible();
  await expect(page.locator('[data-direction]')).toHaveAttribute('data-direction', 'better');
});
