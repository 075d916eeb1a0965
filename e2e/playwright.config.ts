import { defineConfig } from '@playwright/test';

/**
 * The end-to-end journeys: Debian's Chromium (installed by scripts/system-packages.sh) against
 * the real server and the built web app, started by `webServer` on 127.0.0.1 with a fresh
 * SQLite file (e2e/serve.sh). One worker: the journeys share one server and the CI machine
 * has 2 cores; each journey makes its own flows, so they do not depend on each other.
 */
const PORT = Number(process.env.E2E_PORT ?? 3317);
export const BASE_URL = `http://127.0.0.1:${PORT}`;

export default defineConfig({
  testDir: './journeys',
  outputDir: './artifacts/test-results',
  fullyParallel: false,
  workers: 1,
  retries: 0, // a journey that needs a retry is a bug to fix, not to hide
  forbidOnly: true,
  timeout: 90_000,
  expect: { timeout: 15_000 },
  reporter: [['list'], ['json', { outputFile: 'artifacts/results.json' }]],
  use: {
    baseURL: BASE_URL,
    browserName: 'chromium',
    viewport: { width: 1440, height: 900 },
    acceptDownloads: true,
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    },
  },
  webServer: {
    command: 'bash e2e/serve.sh',
    cwd: '..',
    url: `${BASE_URL}/healthz`,
    env: { E2E_PORT: String(PORT) },
    timeout: 240_000, // the first run builds the web app and the server bundle
    reuseExistingServer: false, // every suite run starts on an empty database
    stdout: 'ignore',
    stderr: 'pipe',
  },
});
