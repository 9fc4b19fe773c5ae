import { readdirSync, readlinkSync } from 'node:fs';
import type { TestContext } from 'node:test';

/** Why descriptors cannot be listed here, or false where they can (Linux: /proc/self/fd). */
export const noDescriptorList: string | false =
  process.platform === 'linux' ? false : `${process.platform} has no /proc/self/fd: this test's descriptor check asserts nothing here`;

/**
 * This process's open descriptors whose target `matches` (a path, or `pipe:[...]`), as
 * "fd target" lines to compare before and after. Where they cannot be listed the test says so in
 * its output and gets an empty list, so that a check passing there is never mistaken for proof.
 */
export function openDescriptors(t: TestContext, matches: (target: string) => boolean): string[] {
  if (noDescriptorList) {
    t.diagnostic(noDescriptorList);
    return [];
  }
  const open: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (matches(target)) open.push(`${fd} ${target}`);
    } catch {
      // the listing's own descriptor, already closed
    }
  }
  return open;
}
