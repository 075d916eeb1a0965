import { describe, expect, it } from 'vitest';
import { parseRoute, routePath, type Route } from './router.js';

describe('routes', () => {
  it('parses and prints every page', () => {
    const routes: Route[] = [{ page: 'home' }, { page: 'flow', flowId: 'support-triage' }, { page: 'flow', flowId: 'a b', runId: 'r-1' }, { page: 'share', token: 'tok_123' }];
    for (const route of routes) expect(parseRoute(routePath(route))).toEqual(route);
    expect(parseRoute('/nope/x')).toEqual({ page: 'missing', path: '/nope/x' });
  });
});
