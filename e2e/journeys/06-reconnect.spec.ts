import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, test, type Page } from '@playwright/test';
import { canvasNode, createFlow, endShot, openFlow, trpc } from './support.js';

/**
 * An HTTP service on 127.0.0.1 that holds each request until the test opens the gate: the
 * run stops in the middle for as long as the journey needs, however slow the machine is.
 */
class Gate {
  private held: ServerResponse[] = [];
  private server: Server = createServer((_request: IncomingMessage, response: ServerResponse) => {
    if (this.open) response.end('{"gate":"open"}');
    else this.held.push(response);
  });
  private open = false;

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/gate`;
  }

  release(): void {
    this.open = true;
    for (const response of this.held.splice(0)) response.end('{"gate":"open"}');
  }

  async close(): Promise<void> {
    this.release();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

const STEPS = ['before-1', 'before-2', 'gate', 'after-1', 'after-2', 'after-3'];

/** Two quick steps, a call that waits at the gate, three steps of 150 ms after it. */
function gatedFlow(id: string, gateUrl: string) {
  const step = (stepId: string) =>
    stepId === 'gate'
      ? { id: stepId, kind: 'skill', config: { skill: 'http.request', params: { url: gateUrl, method: 'GET' } } }
      : { id: stepId, kind: 'skill', config: { skill: 'delay', params: { ms: stepId.startsWith('after') ? 150 : 10 } } };
  const order = ['in', ...STEPS, 'out'];
  return {
    version: 1,
    id,
    name: 'Waits at a gate',
    settings: { allowHosts: ['127.0.0.1'] },
    nodes: [{ id: 'in', kind: 'input' }, ...STEPS.map(step), { id: 'out', kind: 'output' }],
    edges: order.slice(1).map((to, i) => ({ from: order[i]!, to })),
  };
}

/** The sequence numbers the timeline lists, in order. */
async function timelineSeqs(page: Page): Promise<number[]> {
  const texts = await page.getByTestId('timeline').locator('.seq').allTextContents();
  return texts.map((t) => Number(t.slice(1)));
}

const oneToN = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

let gate: Gate;
let gateUrl: string;
test.beforeEach(async () => {
  gate = new Gate();
  gateUrl = await gate.listen();
});
test.afterEach(async () => gate.close());

test('live across reconnects: reload the page mid-run and the run view goes on with no gap', async ({ page, request }) => {
  const flowId = await createFlow(request, gatedFlow('e2e-gated', gateUrl));
  await openFlow(page, flowId);
  await page.getByTestId('run-button').click();
  await expect(page).toHaveURL(/\/runs\//);
  const runId = page.url().split('/runs/')[1]!;
  await expect(canvasNode(page, 'gate')).toHaveAttribute('data-status', 'running');
  await expect(canvasNode(page, 'before-2')).toHaveAttribute('data-status', 'succeeded');
  await expect(canvasNode(page, 'after-1')).toHaveAttribute('data-status', 'idle');

  // Reload, and let the run go on while the page is away.
  const reloading = page.reload();
  gate.release();
  await reloading;
  await expect(page.getByTestId('editor')).toBeVisible();

  // The run view picks up where the run is, then follows it live to its end.
  await expect(page.getByTestId('run-status')).toHaveText('succeeded', { timeout: 20_000 });
  for (const id of ['in', ...STEPS, 'out']) await expect(canvasNode(page, id)).toHaveAttribute('data-status', 'succeeded');

  // Every event exactly once, in order: what the server stored.
  const stored = await trpc<{ events: { seq: number }[] }>(request, 'runs.events', { runId }, 'query');
  const total = stored.events.length;
  expect(stored.events.map((e) => e.seq)).toEqual(oneToN(total));
  await page.getByTestId('tab-timeline').click();
  await expect.poll(() => timelineSeqs(page)).toEqual(oneToN(total));
  await expect(page.getByTestId('replay-position')).toHaveText(`${total}/${total} events`);
  await endShot(page, '06-reconnect');
});

test('live across reconnects: a page opened mid-run catches up, then follows live', async ({ page, context, request }) => {
  const flowId = await createFlow(request, gatedFlow('e2e-gated-watch', gateUrl));
  await openFlow(page, flowId);
  await page.getByTestId('run-button').click();
  await expect(page).toHaveURL(/\/runs\//);
  await expect(canvasNode(page, 'gate')).toHaveAttribute('data-status', 'running');

  // A colleague opens the run's link while it waits: they see it where it is.
  const watcher = await context.newPage();
  await watcher.goto(page.url());
  await expect(watcher.getByTestId('run-status')).toHaveText('running');
  await expect(canvasNode(watcher, 'before-2')).toHaveAttribute('data-status', 'succeeded');
  await expect(canvasNode(watcher, 'gate')).toHaveAttribute('data-status', 'running');

  // Then both follow it to the end and saw the same events.
  gate.release();
  await expect(watcher.getByTestId('run-status')).toHaveText('succeeded', { timeout: 20_000 });
  await expect(page.getByTestId('run-status')).toHaveText('succeeded');
  await watcher.getByTestId('tab-timeline').click();
  await page.getByTestId('tab-timeline').click();
  const seen = await timelineSeqs(watcher);
  expect(seen).toEqual(oneToN(seen.length));
  expect(await timelineSeqs(page)).toEqual(seen);
  await endShot(watcher, '06-watcher');
  await watcher.close();
});
