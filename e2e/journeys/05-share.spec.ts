import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { ARTIFACTS, createFlow, endShot, openFlow, trpc } from './support.js';

const triage = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'examples', 'support-triage.json'), 'utf8')) as Record<string, unknown>;

interface FlowRow {
  id: string;
  version: number;
  definition: unknown;
}

test('share: export to a file, delete, import it back identical; a malformed file is refused with its errors', async ({ page, request }) => {
  const flowId = await createFlow(request, { ...triage, id: 'e2e-share', name: 'Shared triage' });
  const original = await trpc<FlowRow>(request, 'flows.get', { id: flowId }, 'query');

  await openFlow(page, flowId);
  const downloading = page.waitForEvent('download');
  await page.getByTestId('export-button').click();
  const download = await downloading;
  expect(download.suggestedFilename()).toMatch(/\.json$/);
  const file = join(ARTIFACTS, `05-${download.suggestedFilename()}`);
  await download.saveAs(file);
  await expect(page.getByTestId('notice')).toContainText(`Exported ${download.suggestedFilename()}`);

  // Delete it from the list of flows (confirming the dialog).
  await page.goto('/');
  page.once('dialog', (dialog) => void dialog.accept());
  await page.getByTestId(`delete-${flowId}`).click();
  await expect(page.getByTestId(`flow-${flowId}`)).toHaveCount(0);
  await expect(trpc(request, 'flows.get', { id: flowId }, 'query')).rejects.toThrow(/404|NOT_FOUND|no flow/i);

  // Import the file: the same flow opens, identical to what was exported.
  await page.getByTestId('import-file').setInputFiles(file);
  await expect(page).toHaveURL(new RegExp(`/flows/${flowId}$`));
  await expect(page.getByTestId('flow-name')).toHaveValue('Shared triage');
  await expect(page.locator('.react-flow__node')).toHaveCount((triage['nodes'] as unknown[]).length);
  const imported = await trpc<FlowRow>(request, 'flows.get', { id: flowId }, 'query');
  expect(imported.definition).toEqual(original.definition);
  await endShot(page, '05-share-imported');

  // A malformed file: every problem listed with its path, and nothing created.
  const before = await trpc<unknown[]>(request, 'flows.list', undefined, 'query');
  const broken = JSON.parse(readFileSync(file, 'utf8')) as { flow: { id: string; nodes: { kind: string }[]; edges: unknown[] } };
  broken.flow.id = 'e2e-broken';
  broken.flow.nodes[1]!.kind = 'teleporter';
  broken.flow.edges.push({ from: 'in' });
  const brokenFile = join(ARTIFACTS, '05-broken.json');
  writeFileSync(brokenFile, JSON.stringify(broken, null, 2));
  await page.goto('/');
  await page.getByTestId('import-file').setInputFiles(brokenFile);
  const problem = page.getByTestId('problem');
  await expect(problem).toContainText('05-broken.json cannot be imported');
  const issues = problem.getByTestId('problem-issues').locator('li');
  await expect(issues).toHaveCount(2);
  await expect(issues.filter({ hasText: 'flow.nodes[1].kind' })).toContainText('unknown node kind "teleporter"');
  await expect(issues.filter({ hasText: `flow.edges[${broken.flow.edges.length - 1}].to` })).toBeVisible();
  await expect(page).toHaveURL(/\/$/);
  await endShot(page, '05-share-malformed');

  // Not JSON at all.
  const garbage = join(ARTIFACTS, '05-garbage.json');
  writeFileSync(garbage, '{ "flow": [1, 2,');
  await page.getByTestId('import-file').setInputFiles(garbage);
  await expect(problem).toContainText('05-garbage.json cannot be imported');
  await expect(problem).toContainText(/JSON/);

  const after = await trpc<unknown[]>(request, 'flows.list', undefined, 'query');
  expect(after).toEqual(before);
  await expect(trpc(request, 'flows.get', { id: 'e2e-broken' }, 'query')).rejects.toThrow();
});
