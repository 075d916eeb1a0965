import { it, expect } from 'vitest';
import { run, flowDoc, compile } from './test-harness.js';
it('probe', async () => {
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.name + ': ' + w.message);
  process.on('warning', onWarning);
  const c = new AbortController();
  const compiled = compile(flowDoc([{id:'in',kind:'input'},{id:'out',kind:'output'}],[{from:'in',to:'out'}]));
  for (let i = 0; i < 20; i++) await run(compiled, { signal: c.signal, input: { i } });
  await new Promise(r => setTimeout(r, 10));
  process.off('warning', onWarning);
  console.log(warnings);
});
