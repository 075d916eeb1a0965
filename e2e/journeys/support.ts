import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, type APIRequestContext, type Locator, type Page } from '@playwright/test';

/** Where each journey leaves a screenshot of its end state (ignored by git). */
export const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), '..', 'artifacts');

/** The run statuses after which nothing changes any more. */
export const FINAL_RUN_STATUSES = /^(succeeded|failed|cancelled|interrupted)$/;

/** Saves a full-page screenshot as e2e/artifacts/<name>.png: what the person saw at the end. */
export async function endShot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/**
 * Calls the server's tRPC API the way the web app does (no transformer: plain JSON), for a
 * journey's set-up and for checks a person could make with an API client.
 */
export async function trpc<T = unknown>(request: APIRequestContext, procedure: string, input: unknown, kind: 'query' | 'mutation' = 'mutation'): Promise<T> {
  const response =
    kind === 'mutation'
      ? await request.post(`/trpc/${procedure}`, { data: input as object })
      : await request.get(`/trpc/${procedure}?input=${encodeURIComponent(JSON.stringify(input))}`);
  const body = (await response.json()) as { result?: { data: T }; error?: { message: string } };
  if (!response.ok() || !body.result) throw new Error(`${procedure} failed (${response.status()}): ${body.error?.message ?? JSON.stringify(body)}`);
  return body.result.data;
}

/** Creates a flow through the API and returns its id (each journey uses ids of its own). */
export async function createFlow(request: APIRequestContext, definition: object): Promise<string> {
  const created = await trpc<{ id: string }>(request, 'flows.create', { definition });
  return created.id;
}

/** A node on the canvas, by flow node id. */
export function canvasNode(page: Page, id: string): Locator {
  return page.getByTestId(`node-${id}`);
}

/** Opens a flow in the editor and waits for its canvas. */
export async function openFlow(page: Page, flowId: string): Promise<void> {
  await page.goto(`/flows/${encodeURIComponent(flowId)}`);
  await expect(page.getByTestId('editor')).toBeVisible();
  await expect(page.locator('.react-flow__node').first()).toBeVisible();
}

/** Presses Run and waits until the run view reports a final status; returns that status. */
export async function runAndWait(page: Page): Promise<string> {
  await page.getByTestId('tab-run').click();
  await page.getByTestId('run-button').click();
  await expect(page).toHaveURL(/\/runs\//);
  const status = page.getByTestId('run-status');
  await expect(status).toHaveText(FINAL_RUN_STATUSES, { timeout: 45_000 });
  return (await status.textContent()) ?? '';
}

/** Drags from one handle to another with the mouse, as a person connects two nodes. */
export async function connect(page: Page, fromNode: string, toNode: string): Promise<void> {
  const source = canvasNode(page, fromNode).locator('.react-flow__handle.source').first();
  const target = canvasNode(page, toNode).locator('.react-flow__handle.target').first();
  const from = await source.boundingBox();
  const to = await target.boundingBox();
  if (!from || !to) throw new Error(`cannot see the handles of ${fromNode} -> ${toNode}`);
  await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
  await page.mouse.down();
  await page.mouse.move((from.x + to.x) / 2, (from.y + to.y) / 2, { steps: 5 });
  await page.mouse.move(to.x + to.width / 2, to.y + to.height / 2, { steps: 5 });
  await page.mouse.up();
}

/** The canvas's node ids, in DOM order. */
export async function canvasNodeIds(page: Page): Promise<string[]> {
  return page.locator('.react-flow__node').evaluateAll((nodes) => nodes.map((n) => n.getAttribute('data-id') ?? ''));
}

/** Every node on the canvas with the status it shows (`idle` before it ran), by node id. */
export async function canvasStatuses(page: Page): Promise<Record<string, string>> {
  return Object.fromEntries(await page.locator('.react-flow__node .loom-node').evaluateAll((nodes) => nodes.map((n) => [n.getAttribute('data-testid')!.slice('node-'.length), n.getAttribute('data-status') ?? ''])));
}
