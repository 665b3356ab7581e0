import { expect, screenshot, test } from './fixtures';

const VIEWER = { email: 'vera.viewer@example.test', name: 'Vera', password: 'saffron-glacier-tuba-19' };

test('an admin invites a viewer, who sees the fleet but cannot change it', async ({
  page,
  browser,
  fleet,
}) => {
  await page.goto('/');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Users' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Users' })).toBeVisible();
  await page.getByLabel('E-mail address').fill(VIEWER.email);
  await page.getByLabel('Role', { exact: true }).selectOption('viewer');
  await page.getByRole('button', { name: 'Create invitation link' }).click();
  const link = (await page.getByTestId('invitation-link').textContent()) ?? '';
  expect(link).toMatch(/\/invite#token=[\w-]{43}$/);
  await expect(page.getByRole('table', { name: 'Pending invitations' })).toContainText(VIEWER.email);
  await screenshot(page, '08-invitation');

  // The viewer, in a browser of their own.
  const viewerContext = await browser.newContext({ storageState: { cookies: [], origins: [] } });
  try {
    const viewer = await viewerContext.newPage();
    await viewer.goto(link);
    await expect(
      viewer.getByText(`You are invited as viewer with the address ${VIEWER.email}`),
    ).toBeVisible();
    await viewer.getByLabel('Name').fill(VIEWER.name);
    await viewer.getByLabel('Password', { exact: true }).fill(VIEWER.password);
    await viewer.getByLabel('Repeat the password').fill(VIEWER.password);
    await viewer.getByRole('button', { name: 'Create account' }).click();

    // The whole fleet, graded; but nothing to add sites or manage people with.
    const rows = viewer.locator('tbody tr');
    await expect(rows).toHaveCount(4);
    await expect(rows.locator('td[data-cell="grade"] [aria-label^="Grade "]')).toHaveCount(4);
    const nav = viewer.getByRole('navigation', { name: 'Main' });
    await expect(nav.getByRole('link', { name: 'Fleet' })).toBeVisible();
    await expect(nav.getByRole('link', { name: 'Add sites' })).toHaveCount(0);
    await expect(nav.getByRole('link', { name: 'Users' })).toHaveCount(0);
    await screenshot(viewer, '08-viewer-fleet');

    // Removing a site is refused by the server, and the site stays.
    await viewer.getByRole('link', { name: fleet.host('shop'), exact: true }).click();
    await expect(viewer.getByRole('heading', { level: 1, name: fleet.host('shop') })).toBeVisible();
    viewer.once('dialog', (dialog) => void dialog.accept());
    await viewer.getByRole('button', { name: 'Remove site' }).click();
    await expect(viewer.getByRole('alert')).toContainText('This needs the admin role; you are a viewer');
    await screenshot(viewer, '08-viewer-cannot-remove');
    await nav.getByRole('link', { name: 'Fleet' }).click();
    await expect(rows).toHaveCount(4);

    // The users page is not theirs either.
    await viewer.goto('/users');
    await expect(viewer.getByRole('alert').first()).toContainText('admin role');
  } finally {
    await viewerContext.close();
  }

  // The admin, back at the users page later, sees who joined; the refused removal changed nothing.
  await page.reload();
  await expect(page.locator(`tr[data-email="${VIEWER.email}"]`)).toContainText('viewer');
  await expect(page.getByRole('table', { name: 'Pending invitations' })).toHaveCount(0);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit log' }).click();
  const log = page.getByRole('table', { name: 'Audit log' });
  await expect(log.locator('tr[data-action="invitation.accept"]')).toContainText(VIEWER.email);
  await expect(log.locator('tr[data-action="user.invite"]')).toContainText(VIEWER.email);
  await expect(log.locator('tr[data-action="site.create"]').first()).toBeVisible();
  await expect(log.locator('tr[data-action="site.delete"]')).toHaveCount(0);
  await screenshot(page, '08-audit-log');
});
