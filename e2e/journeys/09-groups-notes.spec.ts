import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, type Locator, type Page } from '@playwright/test';
import { canvasNode, createFlow, endShot, openFlow, runAndWait, trpc } from './support.js';

/** in -> sub (a sub-flow: in -> shout -> out) -> out, with no saved positions. */
const flow = {
  version: 1,
  id: 'grouped-journey',
  name: 'Grouped journey',
  nodes: [
    { id: 'in', kind: 'input' },
    {
      id: 'sub',
      kind: 'subflow',
      name: 'Shouting sub-flow',
      config: {
        flow: {
          version: 1,
          id: 'shouting',
          name: 'Shouting',
          nodes: [
            { id: 'in', kind: 'input' },
            { id: 'shout', kind: 'skill', config: { skill: 'template', params: { template: 'shout: {{ $string($) }}' } } },
            { id: 'out', kind: 'output' },
          ],
          edges: [
            { from: 'in', to: 'shout' },
            { from: 'shout', to: 'out' },
          ],
        },
      },
    },
    { id: 'out', kind: 'output' },
  ],
  edges: [
    { from: 'in', to: 'sub' },
    { from: 'sub', to: 'out' },
  ],
};

/** Drags a node with the mouse (from its middle) so that its middle ends at `to`, as a person moves it. */
async function dragBy(page: Page, node: Locator, to: { x: number; y: number }): Promise<void> {
  const box = (await node.boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move((box.x + box.width / 2 + to.x) / 2, (box.y + box.height / 2 + to.y) / 2, { steps: 5 });
  await page.mouse.move(to.x, to.y, { steps: 5 });
  await page.mouse.up();
}

interface Stored {
  definition: { notes?: { id: string; text: string; size?: unknown }[]; nodes: { id: string; config?: { flow?: { nodes: { id: string; name?: string }[]; notes?: { id: string; text: string }[] } } }[] };
}

test('a sub-flow is a group with live inner nodes; notes and inner edits are saved and still there after a reload', async ({ page, request }) => {
  const flowId = await createFlow(request, flow);
  await openFlow(page, flowId);

  // The sub-flow is a framed group holding its inner nodes.
  const group = canvasNode(page, 'sub');
  await expect(group).toContainText('Shouting sub-flow');
  await expect(group).toContainText('3 inner nodes');
  const groupBox = (await group.boundingBox())!;
  for (const inner of ['sub/in', 'sub/shout', 'sub/out']) {
    const box = (await canvasNode(page, inner).boundingBox())!;
    expect(box.x).toBeGreaterThanOrEqual(groupBox.x);
    expect(box.y).toBeGreaterThan(groupBox.y);
    expect(box.x + box.width).toBeLessThanOrEqual(groupBox.x + groupBox.width);
    expect(box.y + box.height).toBeLessThanOrEqual(groupBox.y + groupBox.height);
  }
  await expect(page.locator('.react-flow__edge')).toHaveCount(4);

  // A run shows the inner nodes' own states and the group's progress.
  expect(await runAndWait(page)).toBe('succeeded');
  await expect(canvasNode(page, 'sub/shout')).toHaveAttribute('data-status', 'succeeded');
  await expect(canvasNode(page, 'sub')).toHaveAttribute('data-status', 'succeeded');
  await expect(page.getByTestId('group-progress-sub')).toHaveText(/3\/3 inner nodes done/);

  // Select an inner node: the inspector shows it; rename it there.
  await canvasNode(page, 'sub/shout').click();
  const inspector = page.getByTestId('inspector');
  await expect(inspector.getByTestId('inspector-id')).toHaveValue('shout');
  await inspector.getByTestId('inspector-name').fill('Shouter');
  await inspector.getByTestId('inspector-apply').click();
  await expect(canvasNode(page, 'sub/shout')).toContainText('Shouter');

  // A note from the toolbar lands in the middle of the view, here over the group: it is the
  // sub-flow's note (`sub/note`). Double-click, write, click away.
  await page.getByTestId('add-note-button').click();
  const innerNote = page.getByTestId('note-sub/note');
  await expect(innerNote).toBeVisible();
  await expect(page.locator('.react-flow__node[data-id="sub/note:note"]')).toHaveCount(1);
  await innerNote.dblclick();
  await page.getByTestId('note-editor').fill('Shout only at the end.\nAsk Ada first.');
  await page.locator('.react-flow__pane').click({ position: { x: 20, y: 20 } });
  await expect(page.getByTestId('note-text-sub/note')).toHaveText('Shout only at the end.\nAsk Ada first.');
  // Undo takes the text back, redo brings it again.
  await page.keyboard.press('Control+Z');
  await expect(page.getByTestId('note-text-sub/note')).toContainText('Double-click to write a note');
  await page.keyboard.press('Control+Shift+Z');
  await expect(page.getByTestId('note-text-sub/note')).toContainText('Ask Ada first.');

  // Dragged out of the group onto the empty canvas, it becomes a note of the main flow.
  const pane = page.locator('.react-flow__pane');
  const paneBox = (await pane.boundingBox())!;
  await dragBy(page, innerNote, { x: paneBox.x + paneBox.width * 0.75, y: paneBox.y + paneBox.height * 0.78 });
  await expect(page.getByTestId('note-text-note')).toHaveText('Shout only at the end.\nAsk Ada first.');
  await expect(page.locator('.react-flow__node[data-id="note:note"]')).toHaveCount(1);
  await expect(page.getByTestId('note-sub/note')).toHaveCount(0);

  // A second toolbar note stays in the group: the sub-flow's own note.
  await page.getByTestId('add-note-button').click();
  await page.getByTestId('note-sub/note').dblclick();
  await page.getByTestId('note-editor').fill('Inner: keep it short');
  await page.locator('.react-flow__pane').click({ position: { x: 20, y: 20 } });
  await expect(page.getByTestId('note-text-sub/note')).toHaveText('Inner: keep it short');
  await expect(group).toContainText('3 inner nodes'); // notes are not inner nodes

  // A skill dropped from the palette onto the group joins the sub-flow, inside the frame.
  const frame = (await group.boundingBox())!;
  await page.getByTestId('palette-skill').dragTo(group, { targetPosition: { x: frame.width - 60, y: frame.height - 6 } });
  const droppedInner = canvasNode(page, 'sub/skill');
  await expect(droppedInner).toBeVisible();
  await expect(droppedInner).toHaveClass(/selected/);
  const grown = (await group.boundingBox())!;
  const innerBox = (await droppedInner.boundingBox())!;
  expect(innerBox.y + innerBox.height).toBeLessThanOrEqual(grown.y + grown.height);
  expect(innerBox.x + innerBox.width).toBeLessThanOrEqual(grown.x + grown.width);
  await expect(group).toContainText('4 inner nodes');

  // Fold the group: its inner nodes are hidden; open it again.
  await page.getByTestId('group-toggle-sub').click();
  await expect(canvasNode(page, 'sub')).toHaveAttribute('data-collapsed', 'true');
  await expect(canvasNode(page, 'sub/shout')).toBeHidden();
  await expect(page.getByTestId('note-sub/note')).toBeHidden();
  // Nothing can be dropped into a folded group: it says so.
  await page.getByTestId('palette-skill').dragTo(group, { targetPosition: { x: 40, y: 60 } });
  await expect(page.getByTestId('drop-refusal')).toContainText('"sub" is folded');
  await endShot(page, '09-groups-notes-folded');
  await page.getByTestId('group-toggle-sub').click();
  await expect(canvasNode(page, 'sub/shout')).toBeVisible();

  // A sub-flow dropped from the palette arrives as a group with its inner flow.
  await page.getByTestId('palette-subflow').dragTo(pane, { targetPosition: { x: paneBox.width * 0.3, y: paneBox.height * 0.85 } });
  const dropped = canvasNode(page, 'subflow');
  await expect(dropped).toHaveAttribute('data-collapsed', 'false');
  await expect(page.locator('.react-flow__node[data-id^="subflow/"]').first()).toBeVisible();
  const innerCount = await page.locator('.react-flow__node[data-id^="subflow/"]').count();
  expect(innerCount).toBeGreaterThan(1);
  const edgeCount = await page.locator('.react-flow__edge').count();
  expect(edgeCount).toBeGreaterThan(4);

  await page.getByTestId('save-button').click();
  await expect(page.getByTestId('notice')).toContainText('Saved as version 2');

  await page.reload();
  await expect(page.getByTestId('note-text-note')).toHaveText('Shout only at the end.\nAsk Ada first.');
  await expect(page.getByTestId('note-text-sub/note')).toHaveText('Inner: keep it short');
  await expect(canvasNode(page, 'sub/shout')).toContainText('Shouter');
  await expect(canvasNode(page, 'sub/skill')).toBeVisible();
  await expect(page.locator('.react-flow__edge')).toHaveCount(edgeCount);
  // The stored document: the note in `notes`, the rename inside the sub-flow's config.flow.
  const stored = await trpc<Stored>(request, 'flows.get', { id: flowId }, 'query');
  expect(stored.definition.notes).toEqual([expect.objectContaining({ id: 'note', text: 'Shout only at the end.\nAsk Ada first.' })]);
  const sub = stored.definition.nodes.find((n) => n.id === 'sub')!;
  const droppedStored = stored.definition.nodes.find((n) => n.id === 'subflow')!;
  expect(droppedStored.config!.flow!.nodes).toHaveLength(innerCount);
  await expect(page.locator('.react-flow__node[data-id^="subflow/"]')).toHaveCount(innerCount);
  expect(sub.config!.flow!.nodes.map((n) => [n.id, n.name ?? null])).toEqual([
    ['in', null],
    ['shout', 'Shouter'],
    ['out', null],
    ['skill', null],
  ]);
  expect(sub.config!.flow!.notes).toEqual([expect.objectContaining({ id: 'note', text: 'Inner: keep it short' })]);
  await endShot(page, '09-groups-notes-light');
  await page.getByTestId('theme-toggle').click();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  await endShot(page, '09-groups-notes-dark');
  await page.getByTestId('theme-toggle').click();
});

test('a coordinator shows its dependency wave and subtasks done while it runs, and at the end', async ({ page, request }) => {
  const coordinator = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'examples', 'coordinator.json'), 'utf8')) as object;
  const flowId = await createFlow(request, { ...coordinator, id: 'e2e-waves', name: 'Waves' });
  await openFlow(page, flowId);
  const form = page.getByTestId('run-input-form');
  await form.getByTestId('field-product').fill('Aurora Lamp');
  await form.getByTestId('field-basePrice').fill('40');
  expect(await runAndWait(page)).toBe('succeeded');
  await expect(page.getByTestId('node-wave-launch')).toHaveText(/wave 3\/3/);
  await expect(page.getByTestId('node-tasks-launch')).toHaveText(/7\/7 tasks/);
  // Scrubbed back to the first subtask, the node shows the first wave.
  await page.getByTestId('replay-scrubber').fill('5');
  await expect(page.getByTestId('replay-position')).toHaveText(/^5\//);
  await expect(page.getByTestId('node-wave-launch')).toHaveText(/wave 1\/3/);
  await expect(page.getByTestId('node-tasks-launch')).toHaveText(/0\/1 tasks/);
  await endShot(page, '09-coordinator-wave');
});

/** in -> sub (a sub-flow with its own note: in -> boom, which fails -> out) -> out. */
const failingInside = {
  version: 1,
  id: 'e2e-failing-inside',
  name: 'Fails inside a sub-flow',
  nodes: [
    { id: 'in', kind: 'input' },
    {
      id: 'sub',
      kind: 'subflow',
      name: 'Checks',
      config: {
        flow: {
          version: 1,
          id: 'checks',
          name: 'Checks',
          nodes: [
            { id: 'in', kind: 'input' },
            { id: 'boom', kind: 'skill', config: { skill: 'error.throw', params: { message: 'the check found a problem', code: 'check_failed', retryable: false } } },
            { id: 'out', kind: 'output' },
          ],
          edges: [
            { from: 'in', to: 'boom' },
            { from: 'boom', to: 'out' },
          ],
          notes: [{ id: 'why', text: 'boom fails on purpose: the run panel must lead to it.', position: { x: 24, y: 170 }, color: 'pink' }],
        },
      },
    },
    { id: 'out', kind: 'output' },
  ],
  edges: [
    { from: 'in', to: 'sub' },
    { from: 'sub', to: 'out' },
  ],
};

test('a run failing inside a sub-flow: the group says at which inner node, and the run panel leads to it, even when folded', async ({ page, request }) => {
  const flowId = await createFlow(request, failingInside);
  await openFlow(page, flowId);
  // The sub-flow's own note is drawn inside its group.
  await expect(page.getByTestId('note-text-sub/why')).toHaveText('boom fails on purpose: the run panel must lead to it.');
  const groupBox = (await canvasNode(page, 'sub').boundingBox())!;
  const noteBox = (await page.getByTestId('note-sub/why').boundingBox())!;
  expect(noteBox.y).toBeGreaterThan(groupBox.y);
  expect(noteBox.y + noteBox.height).toBeLessThanOrEqual(groupBox.y + groupBox.height + 1);

  expect(await runAndWait(page)).toBe('failed');
  await expect(canvasNode(page, 'sub')).toHaveAttribute('data-status', 'failed');
  await expect(canvasNode(page, 'sub/boom')).toHaveAttribute('data-status', 'failed');
  await expect(page.getByTestId('group-failed-sub')).toHaveText('at boom');
  // The run panel names the inner node by where it is drawn.
  const entry = page.getByTestId('run-error-sub/boom');
  await expect(entry).toHaveText('sub/boom failed: the check found a problem');

  // Folded, the group still says it failed; the error entry opens it and selects the inner node.
  await page.getByTestId('group-toggle-sub').click();
  await expect(canvasNode(page, 'sub/boom')).toBeHidden();
  await expect(canvasNode(page, 'sub')).toHaveAttribute('data-status', 'failed');
  await expect(page.getByTestId('group-failed-sub')).toHaveText('at boom');
  await entry.click();
  await expect(canvasNode(page, 'sub')).toHaveAttribute('data-collapsed', 'false');
  await expect(canvasNode(page, 'sub/boom')).toBeVisible();
  await expect(canvasNode(page, 'sub/boom')).toHaveClass(/selected/);
  await expect(page.getByTestId('inspector-id')).toHaveValue('boom');
  await endShot(page, '09-failing-inner-node');
  // The group's own link selects it too, after selecting something else.
  await canvasNode(page, 'out').click();
  await expect(canvasNode(page, 'sub/boom')).not.toHaveClass(/selected/);
  await page.getByTestId('group-failed-link-sub/boom').click();
  await expect(canvasNode(page, 'sub/boom')).toHaveClass(/selected/);
});
