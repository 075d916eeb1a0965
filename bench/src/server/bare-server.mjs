// The start-up baseline of the server benchmark: a bare `node:http` server answering
// /healthz, started exactly like the Loom server (plain `node`, same environment), so
// the difference between the two is what Loom itself costs to start and to keep in memory.
// It prints its address as one JSON line with `url`, as the Loom server's logger does.
import { createServer } from 'node:http';

const host = process.env.HOST ?? '127.0.0.1';
const server = createServer((req, res) => {
  if (req.url === '/healthz') {
    res.setHeader('content-type', 'application/json');
    res.end('{"ok":true}');
    return;
  }
  res.statusCode = 404;
  res.end();
});
server.listen(Number(process.env.PORT ?? 0), host, () => {
  const { port } = server.address();
  process.stdout.write(`${JSON.stringify({ msg: 'listening', url: `http://${host}:${port}` })}\n`);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
