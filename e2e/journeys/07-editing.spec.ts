import { expect, test, type Page } from '@playwright/test';
import { canvasNode, canvasNodeIds, createFlow, endShot, openFlow } from './support.js';

/** A small flow whose nodes were left in a heap, so a layout has something to do. */
const heap = {
  version: 1,
  id: 'e2e-editing',
  name: 'Editing',
  nodes: [
    { id: 'in', kind: 'input', position: { x: 0, y: 0 } },
    { id: 'shout', kind: 'skill', config: { skill: 'template', params: { template: '{{ $uppercase($string($)) }}' } }, position: { x: 30, y: 20 } },
    { id: 'whisper', kind: 'skill', config: { skill: 'template', params: { template: '{{ $lowercase($string($)) }}' } }, position: { x: 60, y: 40 } },
    { id: 'both', kind: 'merge', config: { mode: 'object' }, position: { x: 90, y: 60 } },
    { id: 'out', kind: 'output', position: { x: 120, y: 80 } },
  ],
  edges: [
    { from: 'in', to: 'shout' },
    { from: 'in', to: 'whisper' },
    { from: 'shout', to: 'both' },
    { from: 'whisper', to: 'both' },
    { from: 'both', to: 'out' },
  ],
};

type Box = { x: number; y: number; width: number; height: number };

async function boxes(page: Page): Promise<Record<string, Box>> {
  const result: Record<string, Box> = {};
  for (const id of await canvasNodeIds(page)) result[id] = (await page.locator(`.react-flow__node[data-id="${id}"]`).boundingBox())!;
  return result;
}

function overlaps(a: Box, b: Box): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

function overlappingPairs(all: Record<string, Box>): string[] {
  const ids = Object.keys(all);
  return ids.flatMap((a, i) => ids.slice(i + 1).filter((b) => overlaps(all[a]!, all[b]!)).map((b) => `${a}/${b}`));
}

async function edgeIds(page: Page): Promise<string[]> {
  return (await page.locator('.react-flow__edge').evaluateAll((edges) => edges.map((e) => e.getAttribute('data-id') ?? ''))).sort();
}

test('undo/redo, copy/paste and delete do what they say', async ({ page, request }) => {
  const flowId = await createFlow(request, { ...heap, nodes: heap.nodes.map((n, i) => ({ ...n, position: { x: i * 260, y: 0 } })) });
  await openFlow(page, flowId);
  expect(await canvasNodeIds(page)).toEqual(['in', 'shout', 'whisper', 'both', 'out']);

  // Copy one node, paste it twice: two copies with ids of their own, each a little further on.
  await canvasNode(page, 'shout').click();
  await page.keyboard.press('Control+C');
  await page.keyboard.press('Control+V');
  await page.keyboard.press('Control+V');
  expect(await canvasNodeIds(page)).toEqual(['in', 'shout', 'whisper', 'both', 'out', 'shout-2', 'shout-3']);
  const placed = await boxes(page);
  expect(placed['shout-2']!.x).toBeGreaterThan(placed['shout']!.x);
  expect(placed['shout-3']!.x).toBeGreaterThan(placed['shout-2']!.x);
  await expect(canvasNode(page, 'shout-2')).toContainText('template');
  await expect(page.getByTestId('save-state')).toContainText('unsaved changes');

  // Undo from the keyboard and the toolbar, redo both ways.
  await page.locator('.react-flow__pane').click({ position: { x: 5, y: 5 } });
  await page.keyboard.press('Control+Z');
  expect(await canvasNodeIds(page)).toEqual(['in', 'shout', 'whisper', 'both', 'out', 'shout-2']);
  await page.getByTestId('undo-button').click();
  expect(await canvasNodeIds(page)).toEqual(['in', 'shout', 'whisper', 'both', 'out']);
  await page.keyboard.press('Control+Shift+Z');
  expect(await canvasNodeIds(page)).toEqual(['in', 'shout', 'whisper', 'both', 'out', 'shout-2']);
  await page.getByTestId('redo-button').click();
  expect(await canvasNodeIds(page)).toEqual(['in', 'shout', 'whisper', 'both', 'out', 'shout-2', 'shout-3']);

  // Copy two connected nodes: the copy keeps the edge between them, and only that one.
  await canvasNode(page, 'whisper').click();
  await canvasNode(page, 'both').click({ modifiers: ['Control'] });
  await page.keyboard.press('Control+C');
  await page.keyboard.press('Control+V');
  expect(await canvasNodeIds(page)).toEqual(['in', 'shout', 'whisper', 'both', 'out', 'shout-2', 'shout-3', 'whisper-2', 'both-2']);
  await expect.poll(() => edgeIds(page)).toContain('whisper-2->both-2');
  expect((await edgeIds(page)).filter((id) => id.includes('-2'))).toEqual(['whisper-2->both-2']);

  // Delete the pasted pair, then undo the delete: both come back with their edge.
  await page.keyboard.press('Delete');
  expect(await canvasNodeIds(page)).toEqual(['in', 'shout', 'whisper', 'both', 'out', 'shout-2', 'shout-3']);
  await page.keyboard.press('Control+Z');
  expect(await canvasNodeIds(page)).toEqual(['in', 'shout', 'whisper', 'both', 'out', 'shout-2', 'shout-3', 'whisper-2', 'both-2']);
  await expect.poll(() => edgeIds(page)).toContain('whisper-2->both-2');

  // Undo everything: the canvas is the saved flow again.
  for (let i = 0; i < 4; i++) await page.getByTestId('undo-button').click();
  expect(await canvasNodeIds(page)).toEqual(['in', 'shout', 'whisper', 'both', 'out']);
  await expect.poll(() => edgeIds(page)).toEqual(['both->out', 'in->shout', 'in->whisper', 'shout->both', 'whisper->both']);
  await endShot(page, '07-undo-redo');
});

test('auto-layout spreads a heap of nodes left to right, can be undone, and is saved', async ({ page, request }) => {
  const flowId = await createFlow(request, { ...heap, id: 'e2e-layout' });
  await openFlow(page, flowId);
  const heaped = await boxes(page);
  expect(overlappingPairs(heaped).length).toBeGreaterThan(0);

  await page.getByTestId('layout-button').click();
  await expect.poll(async () => overlappingPairs(await boxes(page))).toEqual([]);
  // fitView animates for 200 ms: measure once it has settled.
  await page.waitForTimeout(400);
  const laid = await boxes(page);
  expect(overlappingPairs(laid)).toEqual([]);
  // Left to right along the edges: each node starts to the right of the nodes feeding it.
  for (const { from, to } of heap.edges) expect(laid[to]!.x, `${from} -> ${to}`).toBeGreaterThan(laid[from]!.x + laid[from]!.width - 1);
  // The two branches sit one above the other.
  expect(Math.abs(laid['shout']!.x - laid['whisper']!.x)).toBeLessThan(2);
  expect(overlaps(laid['shout']!, laid['whisper']!)).toBe(false);
  await endShot(page, '07-auto-layout');

  // One undo puts the heap back.
  await page.getByTestId('undo-button').click();
  await expect.poll(async () => overlappingPairs(await boxes(page)).length).toBeGreaterThan(0);
  await page.getByTestId('redo-button').click();
  await expect.poll(async () => overlappingPairs(await boxes(page))).toEqual([]);

  // Saved, the layout is what the flow opens with.
  await page.getByTestId('save-button').click();
  await expect(page.getByTestId('notice')).toContainText('Saved as version 2');
  await page.reload();
  await expect(page.locator('.react-flow__node')).toHaveCount(5);
  await expect.poll(async () => overlappingPairs(await boxes(page))).toEqual([]);
});
