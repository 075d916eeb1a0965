import { useEffect } from 'react';
import { Editor } from './pages/Editor.js';
import { Home } from './pages/Home.js';
import { SharedFlow } from './pages/SharedFlow.js';
import { navigate, useRoute } from './router.js';
import { useUi } from './stores/ui.js';

export function App() {
  const route = useRoute();
  const theme = useUi((s) => s.theme);
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
  }, [theme]);
  switch (route.page) {
    case 'home':
      return <Home />;
    case 'flow':
      return <Editor key={route.flowId} flowId={route.flowId} runId={route.runId} />;
    case 'share':
      return <SharedFlow token={route.token} />;
    case 'missing':
      return (
        <main className="page">
          <h1>Nothing here</h1>
          <p>
            There is no page at <code>{route.path}</code>.{' '}
            <a href="/" onClick={(e) => (e.preventDefault(), navigate({ page: 'home' }))}>
              Back to your flows
            </a>
          </p>
        </main>
      );
  }
}
