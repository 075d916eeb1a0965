import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { canvasNode, canvasStatuses, createFlow, endShot, openFlow, runAndWait, trpc } from './support.js';

const supervisor = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'examples', 'supervisor.json'), 'utf8')) as { id: string };

interface Replayed {
  events: number;
  state: { status: string; nodes: Record<string, { status: string; retryInMs?: number; reused?: boolean }> };
}

/** What a node shows on the canvas for a state the server rebuilt from the log. */
function shownStatus(node: Replayed['state']['nodes'][string] | undefined): string {
  if (!node || node.status === 'pending') return 'idle';
  if (node.status === 'failed' && node.retryInMs !== undefined) return 'retrying';
  return node.status;
}

test('replay: open a finished run, scrub to the middle, play to the end, fork from a node', async ({ page, request }) => {
  const flowId = await createFlow(request, { ...supervisor, id: 'e2e-replay', name: 'Replay me' });
  await openFlow(page, flowId);
  await page.getByTestId('run-input-form').getByTestId('field-version').fill('v9.9.9');
  expect(await runAndWait(page)).toBe('succeeded');
  const runId = page.url().split('/runs/')[1]!;

  // Later: open the flow afresh and find the run in its history.
  await openFlow(page, flowId);
  await page.getByTestId('tab-history').click();
  await page.getByTestId(`history-${runId}`).click();
  await expect(page).toHaveURL(new RegExp(`/runs/${runId}$`));
  await expect(page.getByTestId(`history-${runId}`).locator('..')).toHaveClass(/current/);
  await page.getByTestId('tab-run').click();
  await expect(page.getByTestId('run-status')).toHaveText('succeeded');
  const position = page.getByTestId('replay-position');
  await expect(position).toHaveText(/^(\d+)\/\1 events$/);
  const total = Number((await position.textContent())!.split('/')[0]);
  expect(total).toBeGreaterThan(30);

  // Scrub to the middle: the canvas shows every node as it was after that event, as the
  // server's own replay of the log says.
  const middle = Math.floor(total / 2);
  await page.getByTestId('replay-scrubber').fill(String(middle));
  await expect(position).toHaveText(`${middle}/${total} events`);
  const replayed = await trpc<Replayed>(request, 'runs.replay', { runId, atSeq: middle }, 'query');
  expect(replayed.events).toBe(middle);
  const atMiddle = replayed.state;
  expect(atMiddle.status).toBe('running');
  const expected = Object.fromEntries(Object.keys(await canvasStatuses(page)).map((id) => [id, shownStatus(atMiddle.nodes[id])]));
  expect(expected['ship']).toBe('running');
  expect(expected['out']).toBe('idle');
  await expect.poll(() => canvasStatuses(page)).toEqual(expected);
  await expect(page.getByTestId('node-phase-ship')).toHaveText(/^(executing|monitoring) · step \d+$/);
  await endShot(page, '04-replay-middle');

  // Play to the end (fast): every node ends as the run did.
  await page.getByLabel('Playback speed').selectOption('64');
  await page.getByTestId('replay-play').click();
  await expect(page.getByTestId('replay-play')).toHaveText('Pause');
  await expect(position).toHaveText(`${total}/${total} events`, { timeout: 20_000 });
  await expect(page.getByTestId('replay-play')).toHaveText('Play');
  await expect.poll(() => canvasStatuses(page)).toEqual({ release: 'succeeded', ship: 'succeeded', report: 'succeeded', out: 'succeeded' });
  await expect(page.getByTestId('node-phase-ship')).toHaveText('completed · step 12');

  // Fork from the report: a new run that reuses what came before it, linked to its parent.
  await canvasNode(page, 'report').click();
  await expect(page.getByTestId('fork-button')).toHaveText('Fork from report');
  await page.getByTestId('fork-button').click();
  await page.getByTestId('tab-run').click();
  await expect(page).not.toHaveURL(new RegExp(`/runs/${runId}$`));
  await expect(page.getByTestId('run-status')).toHaveText('succeeded');
  const forkId = page.url().split('/runs/')[1]!;
  await expect(page.getByTestId('run-result')).toContainText(`(from run ${runId.slice(0, 8)})`);
  await expect(page.getByTestId('node-status-ship')).toContainText('reused');
  await expect(page.getByTestId('node-status-report')).toContainText('succeeded');
  await page.getByTestId('tab-history').click();
  const forkEntry = page.getByTestId('run-history').locator('li', { has: page.getByTestId(`history-${forkId}`) });
  await expect(forkEntry).toContainText(`fork of ${runId.slice(0, 8)}`);
  await expect(forkEntry).toHaveClass(/current/);
  const fork = await trpc<{ parentRunId: string; origin: string }>(request, 'runs.get', { runId: forkId }, 'query');
  expect(fork).toMatchObject({ parentRunId: runId, origin: 'fork' });
  await endShot(page, '04-replay-fork');
});
