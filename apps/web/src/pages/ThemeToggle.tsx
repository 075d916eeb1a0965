import { useUi } from '../stores/ui.js';

export function ThemeToggle() {
  const theme = useUi((s) => s.theme);
  const toggle = useUi((s) => s.toggleTheme);
  return (
    <button onClick={toggle} data-testid="theme-toggle" title="Switch between light and dark">
      {theme === 'dark' ? 'Light theme' : 'Dark theme'}
    </button>
  );
}
