import { create } from 'zustand';

export type Theme = 'light' | 'dark';

const stored = typeof localStorage !== 'undefined' ? localStorage.getItem('loom.theme') : null;
const preferred: Theme =
  stored === 'light' || stored === 'dark' ? stored : typeof matchMedia === 'function' && matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';

export interface UiState {
  theme: Theme;
  toggleTheme(): void;
}

export const useUi = create<UiState>()((set, get) => ({
  theme: preferred,
  toggleTheme() {
    const theme = get().theme === 'dark' ? 'light' : 'dark';
    localStorage.setItem('loom.theme', theme);
    set({ theme });
  },
}));
