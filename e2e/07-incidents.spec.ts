import { expect, screenshot, test } from './fixtures';

test('a regression confirmed by two scans becomes an incident that someone acknowledges', async ({
  page,
  fleet,
}) => {
  await fleet.switchTo('wiki', 'debug');
  await page.goto('/');
  await page.getByRole('link', { name: fleet.host('wiki'), exact: true }).click();
  await expect(page.getByRole('heading', { level: 1, name: fleet.host('wiki') })).toBeVisible();

  // A scan asked for by hand is confirmed by the next one, not by a rescan behind the user's back.
  for (let scan = 0; scan < 2; scan++) {
    await page.getByRole('button', { name: 'Scan now' }).click();
    await expect(page.getByRole('button', { name: 'Scanning…' })).toBeVisible();
    await expect(page.getByRole('button', { name: 'Scan now' })).toBeEnabled({ timeout: 30_000 });
  }

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Incidents' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Incidents' })).toBeVisible();
  const incident = page.locator('tr[data-finding-id="django.debug"]', { hasText: fleet.host('wiki') });
  await expect(incident).toContainText('Django DEBUG is on');
  await expect(incident.locator('.sev')).toHaveText('critical');
  await incident.getByRole('button', { name: 'Acknowledge' }).click();
  await expect(incident.getByText('Acknowledged')).toBeVisible();
  await expect(incident.getByRole('button', { name: 'Acknowledge' })).toHaveCount(0);
  await screenshot(page, '07-incidents');

  // Filtered by its site, the incident is still there; nothing of it is in the past yet.
  await page.getByLabel('Site').selectOption({ label: fleet.host('wiki') });
  await expect(page.locator('tr[data-finding-id="django.debug"]')).toHaveCount(1);
  await page.getByRole('button', { name: 'Past' }).click();
  await expect(page.getByText('No past incidents yet.')).toBeVisible();
});
