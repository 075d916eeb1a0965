import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test, type Page } from '@playwright/test';
import { canvasStatuses, endShot, runAndWait } from './support.js';

/** The templates are the examples, seeded into the empty database the suite starts with. */
const examplesDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'examples');
const templates = readdirSync(examplesDir)
  .filter((f) => f.endsWith('.json') && !f.endsWith('.golden.json'))
  .map((f) => f.slice(0, -'.json'.length))
  .sort();

const FINAL_NODE_STATUSES = ['succeeded', 'failed', 'skipped', 'cancelled'];

async function useTemplate(page: Page, name: string): Promise<void> {
  await page.goto('/');
  await page.getByTestId(`template-${name}`).getByRole('button', { name: 'Use this template' }).click();
  await expect(page.getByTestId('editor')).toBeVisible();
  await expect(page.locator('.react-flow__node').first()).toBeVisible();
}

test('the templates list has every example', async ({ page }) => {
  await page.goto('/');
  for (const name of templates) await expect(page.getByTestId(`template-${name}`)).toBeVisible();
  expect(templates.length).toBeGreaterThanOrEqual(12);
});

for (const name of templates) {
  test(`template ${name}: runs, and every node reaches its final state`, async ({ page }) => {
    await useTemplate(page, name);
    expect(await runAndWait(page)).toBe('succeeded');
    await expect(page.getByTestId('run-output')).toBeVisible();
    // Node states arrive with the run's events: the last ones may land just after the status.
    await expect
      .poll(async () => Object.entries(await canvasStatuses(page)).filter(([, status]) => !FINAL_NODE_STATUSES.includes(status)), { message: 'nodes not in a final state' })
      .toEqual([]);
    const statuses = Object.values(await canvasStatuses(page));
    expect(statuses.length).toBeGreaterThan(1);
    expect(statuses).toContain('succeeded');
    await endShot(page, `02-template-${name}`);
  });
}

test('the supervisor template: the supervision log shows its state transitions in order', async ({ page }) => {
  await useTemplate(page, 'supervisor');
  expect(await runAndWait(page)).toBe('succeeded');
  await page.getByTestId('tab-supervision').click();
  const rows = page.getByTestId('supervision-log').locator('tbody tr');
  await expect(rows).toHaveCount(13);
  const table = await rows.evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
  expect(table.map((cells) => Number(cells[0]))).toEqual([...Array(13).keys()]);
  const fivePlanSteps = Array.from({ length: 5 }, () => ['executing', 'monitoring']).flat();
  expect(table.map((cells) => cells[1])).toEqual(['initializing', 'planning', ...fivePlanSteps, 'completed']);
  expect(table[2]).toEqual(['2', 'executing', 'release_engineer', 'ran step 1: freeze the release branch', expect.any(String)]);
  expect(table[12]?.[2]).toBe('supervisor');

  // The filter narrows the log to one state, in the same order.
  await page.getByTestId('supervision-state-filter').selectOption('monitoring');
  await expect(rows).toHaveCount(5);
  expect(await rows.locator('td:nth-child(1)').allTextContents()).toEqual(['3', '5', '7', '9', '11']);
  await page.getByTestId('supervision-state-filter').selectOption('');
  await expect(rows).toHaveCount(13);
  await expect(page.getByTestId('node-phase-supervise').or(page.locator('.loom-node-phase').first())).toBeVisible();
  await endShot(page, '02-supervisor-log');
});
