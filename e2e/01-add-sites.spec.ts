import { expect, screenshot, test } from './fixtures';

test('a new user adds sites one by one and by CSV, then sees them scanned and graded', async ({
  page,
  fleet,
}) => {
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'No sites yet' })).toBeVisible();
  await screenshot(page, '01-empty-fleet');

  await page.getByRole('link', { name: 'Add your first sites' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Add sites' })).toBeVisible();

  const host = page.getByLabel('Host', { exact: true });
  const addSite = page.getByRole('button', { name: 'Add site' });

  // The server's target parser explains what is wrong, next to the field.
  await host.fill('not a host!');
  await addSite.click();
  await expect(host).toHaveAttribute('aria-invalid', 'true');
  await expect(page.locator('#host-error')).not.toBeEmpty();
  await expect(host).toBeFocused();

  await host.fill(fleet.host('shop'));
  await page.getByLabel('Label', { exact: true }).fill('Shop');
  await page.getByLabel('Tags', { exact: true }).fill('prod, eu');
  await page.getByLabel('Scan every').selectOption({ label: '1 h' });
  await addSite.click();
  const added = page.locator('.notice.success');
  await expect(added.getByRole('link', { name: fleet.host('shop') })).toBeVisible();
  await expect(host).toHaveValue('');
  await expect(host).not.toHaveAttribute('aria-invalid', 'true');

  await host.fill(`https://${fleet.host('blog')}/`);
  await page.getByLabel('Label', { exact: true }).fill('Blog');
  await addSite.click();
  await expect(added.getByRole('link', { name: fleet.host('blog') })).toBeVisible();

  // Adding the same host again says so and links to the existing site.
  await host.fill(fleet.host('shop'));
  await addSite.click();
  await expect(page.locator('#host-error')).toContainText(fleet.host('shop'));
  await expect(page.locator('#host-error').getByRole('link', { name: 'Open it' })).toBeVisible();
  await screenshot(page, '01-add-one-site');

  await page
    .getByLabel(/Sites, one per line/)
    .fill(
      [
        'host,label,tags,interval',
        `${fleet.host('docs')},Docs,internal;eu,6h`,
        `${fleet.host('wiki')},Wiki,,1d`,
        fleet.host('shop'),
        'bad host name,Nope',
      ].join('\n'),
    );
  await page.getByRole('button', { name: 'Import' }).click();
  const results = page.getByRole('table', { name: 'Import result per line' });
  await expect(results.locator('tr[data-line="2"]')).toContainText('added');
  await expect(results.locator('tr[data-line="3"]')).toContainText('added');
  await expect(results.locator('tr[data-line="4"]')).toContainText('duplicate');
  await expect(results.locator('tr[data-line="5"]')).toContainText('invalid');
  await expect(results.locator('tr[data-line="5"] td').nth(3)).not.toBeEmpty();
  await expect(page.getByText('2 added, 1 already monitored, 1 invalid.')).toBeVisible();
  await screenshot(page, '01-csv-import');

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Fleet' }).click();
  const rows = page.locator('tbody tr');
  await expect(rows).toHaveCount(4);
  // Every site gets its first scan without anyone asking: the overview fills in by itself.
  await expect(rows.locator('td[data-cell="grade"] [aria-label^="Grade "]')).toHaveCount(4, {
    timeout: 45_000,
  });
  // Worst first: the site serving Django's DEBUG page is on top with an F.
  await expect(rows.first()).toHaveAttribute('data-host', fleet.host('blog'));
  await expect(rows.first().locator('td[data-cell="grade"]')).toHaveText('F');
  await expect(rows.first().locator('.sev-critical')).toBeVisible();
  await expect(page.locator(`tr[data-host="${fleet.host('shop')}"] td[data-cell="grade"]`)).toHaveText('A+');
  await expect(rows.locator('.sparkline circle')).toHaveCount(4);
  await screenshot(page, '01-fleet-scanned');

  // Filters narrow the list; the URL keeps them.
  await page.getByLabel('Grade', { exact: true }).selectOption({ label: 'F' });
  await expect(rows).toHaveCount(1);
  await expect(page).toHaveURL(/grade=/);
  await page.getByRole('button', { name: 'Clear filters' }).click();
  await page.getByLabel('Search', { exact: true }).fill('wiki');
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toHaveAttribute('data-host', fleet.host('wiki'));
  await page.getByRole('button', { name: 'Clear filters' }).click();
  await expect(rows).toHaveCount(4);

  await page.setViewportSize({ width: 390, height: 844 });
  await screenshot(page, '01-fleet-phone');
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.emulateMedia({ colorScheme: 'dark' });
  await screenshot(page, '01-fleet-dark');
});
