import { useSyncExternalStore } from 'react';

/** The app's pages: a tiny path router on the History API (three routes need no library). */
export type Route = { page: 'home' } | { page: 'flow'; flowId: string; runId?: string } | { page: 'share'; token: string } | { page: 'missing'; path: string };

export function parseRoute(path: string): Route {
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts.length === 0) return { page: 'home' };
  if (parts[0] === 'flows' && parts[1] && parts.length === 2) return { page: 'flow', flowId: parts[1] };
  if (parts[0] === 'flows' && parts[1] && parts[2] === 'runs' && parts[3] && parts.length === 4) return { page: 'flow', flowId: parts[1], runId: parts[3] };
  if (parts[0] === 'share' && parts[1] && parts.length === 2) return { page: 'share', token: parts[1] };
  return { page: 'missing', path };
}

export function routePath(route: Route): string {
  switch (route.page) {
    case 'home':
      return '/';
    case 'flow':
      return `/flows/${encodeURIComponent(route.flowId)}${route.runId ? `/runs/${encodeURIComponent(route.runId)}` : ''}`;
    case 'share':
      return `/share/${encodeURIComponent(route.token)}`;
    case 'missing':
      return route.path;
  }
}

const listeners = new Set<() => void>();
const subscribe = (listener: () => void) => {
  listeners.add(listener);
  window.addEventListener('popstate', listener);
  return () => {
    listeners.delete(listener);
    window.removeEventListener('popstate', listener);
  };
};

export function navigate(route: Route, options: { replace?: boolean } = {}): void {
  const path = routePath(route);
  if (path === window.location.pathname) return;
  if (options.replace) window.history.replaceState(null, '', path);
  else window.history.pushState(null, '', path);
  for (const listener of listeners) listener();
}

export function useRoute(): Route {
  const path = useSyncExternalStore(subscribe, () => window.location.pathname);
  return parseRoute(path);
}
