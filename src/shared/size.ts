/**
 * "8.0 MiB": the one way Quartermaster writes a size, in the extension, the language server and
 * the CLI alike. Binary units, as `du -h`, `ls -lh` and the toolchains' own sizes on disk count;
 * whole bytes below 1 KiB; one decimal below 100 of a unit, none above.
 */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes / 1024;
  let unit = 0;
  // Rounded first, so 1023.96 KiB reads "1.0 MiB", never "1024 KiB".
  while (Number(value.toFixed(value >= 100 ? 0 : 1)) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value >= 100 ? 0 : 1)} ${units[unit]}`;
}
