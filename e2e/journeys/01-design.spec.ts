import { expect, test } from '@playwright/test';
import { canvasNode, canvasNodeIds, connect, endShot } from './support.js';

test('design a flow from an empty canvas, save it, reload: it is still there', async ({ page }) => {
  await page.goto('/');
  await page.getByTestId('new-flow').click();
  await expect(page.getByTestId('editor')).toBeVisible();

  // A new flow starts with an input and an output: clear the canvas to start from nothing.
  await expect(page.locator('.react-flow__node')).toHaveCount(2);
  await page.locator('.react-flow__pane').click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await expect(page.locator('.react-flow__node')).toHaveCount(0);

  // Drag an input, an agent and an output from the palette to three places on the canvas.
  const pane = page.locator('.react-flow__pane');
  const box = (await pane.boundingBox())!;
  const drops: [string, number][] = [['input', 0.2], ['agent', 0.5], ['output', 0.8]];
  for (const [kind, x] of drops) {
    await page.getByTestId(`palette-${kind}`).dragTo(pane, { targetPosition: { x: box.width * x, y: box.height * 0.4 } });
  }
  await expect(page.locator('.react-flow__node')).toHaveCount(3);
  expect(await canvasNodeIds(page)).toEqual(['input', 'agent', 'output']);

  await connect(page, 'input', 'agent');
  await connect(page, 'agent', 'output');
  await expect(page.locator('.react-flow__edge')).toHaveCount(2);

  // Configure the agent in the inspector: its prompt and its name.
  await canvasNode(page, 'agent').click();
  const inspector = page.getByTestId('inspector');
  await expect(inspector).toContainText('agent');
  await inspector.getByTestId('field-prompt').fill('Summarise: {{ $ }}');
  await inspector.getByTestId('inspector-name').fill('Summariser');
  await inspector.getByTestId('inspector-apply').click();
  await expect(canvasNode(page, 'agent')).toContainText('Summariser');

  await page.getByTestId('flow-name').fill('Designed in the browser');
  await expect(page.getByTestId('save-state')).toContainText('unsaved changes');
  await page.getByTestId('save-button').click();
  await expect(page.getByTestId('notice')).toContainText('Saved as version 2');
  await expect(page.getByTestId('save-state')).not.toContainText('unsaved');

  await page.reload();
  await expect(page.getByTestId('flow-name')).toHaveValue('Designed in the browser');
  await expect(page.locator('.react-flow__node')).toHaveCount(3);
  expect(await canvasNodeIds(page)).toEqual(['input', 'agent', 'output']);
  await expect(page.locator('.react-flow__edge')).toHaveCount(2);
  await expect(canvasNode(page, 'agent')).toContainText('Summariser');
  await canvasNode(page, 'agent').click();
  await expect(page.getByTestId('inspector').getByTestId('field-prompt')).toHaveValue('Summarise: {{ $ }}');
  await endShot(page, '01-design');
});
