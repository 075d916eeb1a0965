import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// `pnpm --filter @loom/web dev` serves the app on :5173 and proxies the API and sockets to the
// server on :3000 (same origin for the browser, so no CORS setup is needed). `build` writes
// dist/, which the server serves on its own port.
export default defineConfig({
  plugins: [react()],
  server: {
    port: 5173,
    proxy: {
      '/trpc': 'http://127.0.0.1:3000',
      '/socket.io': { target: 'http://127.0.0.1:3000', ws: true },
    },
  },
  build: {
    outDir: 'dist',
    sourcemap: true,
    chunkSizeWarningLimit: 2000,
    // The build-time profile of plugins is noise in `npm start` and CI logs (2 cores make it slow).
    rolldownOptions: { checks: { bundlerTimings: false } },
  },
});
