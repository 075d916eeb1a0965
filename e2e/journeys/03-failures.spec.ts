import { expect, test } from '@playwright/test';
import { canvasNode, createFlow, endShot, openFlow } from './support.js';

/** A chain whose geocoding step is retried then skipped, then a lookup that fails for good after three attempts. */
const failingFlow = {
  version: 1,
  id: 'e2e-failing-lookup',
  name: 'A lookup that keeps failing',
  nodes: [
    { id: 'in', kind: 'input', config: { fields: { city: { type: 'string', default: 'Lisbon' } } } },
    {
      id: 'enrich',
      kind: 'chain',
      config: {
        steps: [
          { id: 'normalise', skill: 'json.transform', params: { expression: "{ 'city': $uppercase(city) }" } },
          {
            id: 'geocode',
            skill: 'error.throw',
            params: { message: 'geocoder down for {{ city }}', code: 'unavailable', retryable: true },
            input: 'steps.normalise',
            onError: 'retry',
            retry: { maxAttempts: 2, backoffMs: 50 },
            afterRetries: 'skip',
            default: { city: 'LISBON', lat: 0, lon: 0 },
          },
        ],
      },
    },
    {
      id: 'lookup',
      kind: 'skill',
      retry: { maxAttempts: 3, backoffMs: 700, factor: 1 },
      config: { skill: 'error.throw', params: { message: 'weather service unavailable for {{ city }}', code: 'unavailable', retryable: true } },
    },
    { id: 'out', kind: 'output' },
  ],
  edges: [
    { from: 'in', to: 'enrich' },
    { from: 'enrich', to: 'lookup' },
    { from: 'lookup', to: 'out' },
  ],
};

test('a failing skill: the node is marked, the error is readable, retries and skips show in the timeline', async ({ page, request }) => {
  const flowId = await createFlow(request, failingFlow);
  await openFlow(page, flowId);
  await page.getByTestId('run-button').click();

  // While it waits for its next attempt, the node says so.
  const lookup = canvasNode(page, 'lookup');
  await expect(lookup).toHaveAttribute('data-status', 'retrying');
  await expect(page.getByTestId('node-status-lookup')).toContainText(/retrying in 700 ms/);

  await expect(page.getByTestId('run-status')).toHaveText('failed', { timeout: 20_000 });
  await expect(lookup).toHaveAttribute('data-status', 'failed');
  await expect(lookup).toHaveClass(/status-failed/);
  await expect(page.getByTestId('node-status-lookup')).toContainText('failed');
  await expect(page.getByTestId('node-status-lookup')).toContainText('attempt 3');
  await expect(lookup.locator('.loom-node-error')).toHaveText('weather service unavailable for LISBON');
  await expect(page.getByTestId('run-error-lookup')).toHaveText('lookup failed after 3 attempts: weather service unavailable for LISBON');
  // The chain survived its skipped step; the output never ran.
  await expect(canvasNode(page, 'enrich')).toHaveAttribute('data-status', 'succeeded');
  await expect(canvasNode(page, 'out')).not.toHaveAttribute('data-status', 'succeeded');

  await page.getByTestId('tab-timeline').click();
  const timeline = page.getByTestId('timeline');
  await expect(timeline).toContainText('task enrich/1/step-2-geocode failed, retry in 50 ms: geocoder down for LISBON');
  await expect(timeline).toContainText('task enrich/1/step-2-geocode skipped: step 2 of 2 ("geocode") failed after 2 attempts; its policy skips it and the chain goes on with its default');
  const lookupLines = timeline.locator('li', { hasText: /^#\d+ lookup failed/ });
  await expect(lookupLines).toHaveText([
    /lookup failed, retry in 700 ms: weather service unavailable for LISBON$/,
    /lookup failed \(attempt 2\), retry in 700 ms: weather service unavailable for LISBON$/,
    /lookup failed \(attempt 3\): weather service unavailable for LISBON$/,
  ]);
  await expect(timeline.locator('li').last()).toContainText('run failed: node "lookup" failed: weather service unavailable for LISBON');
  await endShot(page, '03-failing-skill');
});
