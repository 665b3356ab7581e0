import { ADMIN, adminStateFile, expect, screenshot, test } from './fixtures';

// A fresh browser: nobody has signed in yet.
test.use({ storageState: { cookies: [], origins: [] } });

test('first run: the printed setup link creates the admin, who signs out and back in', async ({ page }) => {
  const setupUrl = process.env.VIGIL_E2E_SETUP_URL;
  if (!setupUrl) throw new Error('VIGIL_E2E_SETUP_URL is not set: run through e2e/playwright.config.ts');

  // Without an account the dashboard sends people to the login page, which says what to do.
  await page.goto('/');
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByText('Vigil has no accounts yet')).toBeVisible();

  await page.goto(setupUrl);
  await expect(page.getByRole('heading', { level: 1, name: 'Set up Vigil' })).toBeVisible();
  // The secret leaves the address bar (and so the history) once read.
  await expect(page).toHaveURL(/\/setup$/);
  await page.getByLabel('E-mail address').fill(ADMIN.email);
  await page.getByLabel('Name').fill(ADMIN.name);
  const password = page.getByLabel('Password', { exact: true });
  const repeat = page.getByLabel('Repeat the password');
  const create = page.getByRole('button', { name: 'Create admin account' });

  await password.fill('too short');
  await repeat.fill('too short');
  await create.click();
  await expect(page.getByText('Use at least 12 characters.')).toBeVisible();
  await password.fill('Password2024!');
  await repeat.fill('Password2024!');
  await create.click();
  await expect(page.getByRole('alert')).toContainText('commonly used passwords');
  await screenshot(page, '00-setup-refused');

  await password.fill(ADMIN.password);
  await repeat.fill(ADMIN.password);
  await create.click();
  await expect(page.getByRole('heading', { name: 'No sites yet' })).toBeVisible();
  await expect(page.getByRole('link', { name: /Ada Admin\s*admin/ })).toBeVisible();

  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByText('Vigil has no accounts yet')).toHaveCount(0);
  await page.getByLabel('E-mail address').fill(ADMIN.email);
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toHaveText('Wrong e-mail address or password');
  await page.getByLabel('Password').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'No sites yet' })).toBeVisible();
  await screenshot(page, '00-signed-in');

  // A page opened while signed out comes back after the login.
  await page.context().clearCookies();
  await page.goto('/settings');
  await expect(page).toHaveURL(/\/login\?next=%2Fsettings$/);
  await page.getByLabel('E-mail address').fill(ADMIN.email);
  await page.getByLabel('Password').fill(ADMIN.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/settings$/);
  await expect(page.getByLabel('Scans at once')).toBeVisible();

  await page.context().storageState({ path: adminStateFile() });
});
