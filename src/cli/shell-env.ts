import * as path from 'node:path';

export const SHELLS = ['bash', 'zsh', 'fish', 'powershell'] as const;
export type Shell = (typeof SHELLS)[number];

/** The line that puts `dirs` first on PATH in `shell` (what `eval "$(qm env)"` runs). */
export function renderPath(shell: Shell, dirs: string[]): string {
  const joined = dirs.join(path.delimiter);
  if (shell === 'fish') return `set -gx PATH ${dirs.map((d) => JSON.stringify(d)).join(' ')} $PATH\n`;
  if (shell === 'powershell') return `$env:PATH = ${JSON.stringify(joined + path.delimiter)} + $env:PATH\n`;
  return `export PATH=${JSON.stringify(joined)}${path.delimiter}"$PATH"\n`;
}
