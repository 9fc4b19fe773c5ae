/** Human-readable rates and durations for terminal output; sizes are src/shared/size.ts's formatSize. */

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--';
  if (seconds < 60) return `${Math.ceil(seconds)}s`;
  const minutes = Math.floor(seconds / 60);
  return minutes < 60 ? `${minutes}m${Math.round(seconds % 60)}s` : `${Math.floor(minutes / 60)}h${minutes % 60}m`;
}

/** What `qm install` says of each toolchain (the small entry's gate says it too). */
export function installedLine(tool: { tool: string; version: string; dir: string; installed: boolean }): string {
  return `${tool.tool} ${tool.version}: ${tool.installed ? 'installed' : 'already installed'} in ${tool.dir}\n`;
}

export function progressBar(fraction: number, width: number): string {
  const filled = Math.round(Math.max(0, Math.min(1, fraction)) * width);
  return `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
}
