import { expect, test } from './fixtures';

test('an admin changes the scan defaults; bad values are refused next to the field', async ({ page }) => {
  await page.goto('/settings');
  const retention = page.getByLabel('Keep every scan for (days)');
  await retention.fill('0');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect(retention).toHaveAttribute('aria-invalid', 'true');

  await retention.fill('400');
  await page.getByLabel('Default scan interval (minutes)').fill('720');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect(page.getByRole('status')).toHaveText('Saved.');
  await expect(retention).not.toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByText('Now every 12 h')).toBeVisible();

  await page.goto('/sites/new');
  await expect(page.getByLabel('Scan every').locator('option').first()).toHaveText('Default (12 h)');

  await page.goto('/settings');
  await page.getByLabel('Default scan interval (minutes)').fill('360');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect(page.getByText('Now every 6 h')).toBeVisible();
});
