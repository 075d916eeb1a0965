import { create } from 'zustand';
import { api, toProblem } from '../api/client.js';

/** One built-in skill as the server describes it; `params` is the JSON Schema of its parameters. */
export type SkillInfo = Awaited<ReturnType<typeof api.system.skills.query>>[number];

export interface SkillsState {
  /** null until loaded. Tests set it directly. */
  skills: SkillInfo[] | null;
  error: string | null;
}

/** The skill catalogue, loaded once per page: it only changes when the server does. */
export const useSkills = create<SkillsState>()(() => ({ skills: null, error: null }));

let loading: Promise<void> | null = null;

/** Starts loading the catalogue unless it is loaded or on its way; a failure can be retried by calling again. */
export function loadSkills(): void {
  if (loading || useSkills.getState().skills) return;
  loading = api.system.skills.query().then(
    (skills) => useSkills.setState({ skills, error: null }),
    (error: unknown) => {
      loading = null;
      useSkills.setState({ error: `Could not load the skills: ${toProblem(error).message}` });
    },
  );
}
