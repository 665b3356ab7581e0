import { expect, test } from './fixtures';

test('the dashboard works from the keyboard and every control has a name', async ({ page, fleet }) => {
  await page.goto('/');
  await page.keyboard.press('Tab');
  const skip = page.getByRole('link', { name: 'Skip to content' });
  await expect(skip).toBeFocused();
  await expect(skip).toBeInViewport();
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/#main$/);

  for (const path of ['/', '/sites/new', '/settings']) {
    await page.goto(path);
    await expect(page.locator('h1')).toBeVisible();
    for (const control of await page.locator('input, select, textarea, button').all()) {
      await expect(control).toHaveAccessibleName(/\S/);
    }
  }

  // Tab to a site's link and open it with Enter; then reach "Scan now" the same way.
  await page.goto('/');
  const siteLink = page.getByRole('link', { name: fleet.host('docs'), exact: true });
  await expect(siteLink).toBeVisible();
  for (
    let presses = 0;
    presses < 40 && !(await siteLink.evaluate((link) => link === link.ownerDocument.activeElement));
    presses += 1
  ) {
    await page.keyboard.press('Tab');
  }
  await expect(siteLink).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { level: 1, name: fleet.host('docs') })).toBeVisible();
  const scanNow = page.getByRole('button', { name: 'Scan now' });
  for (
    let presses = 0;
    presses < 20 && !(await scanNow.evaluate((button) => button === button.ownerDocument.activeElement));
    presses += 1
  ) {
    await page.keyboard.press('Tab');
  }
  await expect(scanNow).toBeFocused();
  // The focus ring is drawn (a visible outline), not suppressed.
  const outline = await scanNow.evaluate('(button) => getComputedStyle(button).outlineStyle');
  expect(outline).not.toBe('none');
});
