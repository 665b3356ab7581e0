import { expect, screenshot, test } from './fixtures';

/** The policy a later issue serves: nothing inline, everything from the app's own origin. */
const STRICT_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

test('every page works under a strict CSP without unsafe-inline', async ({ page, fleet }) => {
  await page.route('**/*', async (route) => {
    if (route.request().resourceType() !== 'document') return route.fallback();
    const response = await route.fetch();
    return route.fulfill({
      response,
      headers: { ...response.headers(), 'content-security-policy': STRICT_CSP },
    });
  });
  const violations: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
  });

  await page.goto('/');
  await expect(page.locator('tbody tr')).toHaveCount(4);
  await page.getByRole('link', { name: fleet.host('shop'), exact: true }).click();
  await expect(page.locator('.chart-box canvas')).toBeVisible();
  // Hovering the chart makes uPlot move its cursor and legend (styles set through the DOM, which CSP allows).
  await page.locator('.chart-box .u-over').hover();
  await page.getByRole('link', { name: 'Compare scans' }).click();
  await expect(page.getByRole('heading', { name: 'Grade change' })).toBeVisible();
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Add sites' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Add sites' })).toBeVisible();
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Settings' }).click();
  await expect(page.getByLabel('Scans at once')).toBeVisible();
  await screenshot(page, '04-settings');

  expect(violations).toEqual([]);
});
