import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Parser, type ReadEntry } from 'tar';

/** What one path of a toolchain tree must be: a directory, a symlink to a target, or a file with a digest and an executable bit. */
type Expected = { type: 'dir' } | { type: 'symlink'; target: string } | { type: 'file'; sha256: string; executable: boolean };

/** The tree a .tar.gz unpacks to, from the archive's own listing (leading components stripped). */
export function archiveListing(tarGz: Buffer, stripComponents: number): Map<string, Expected> {
  const listing = new Map<string, Expected>();
  const parser = new Parser({ strict: true });
  parser.on('entry', (entry: ReadEntry) => {
    const parts = entry.path.split('/').filter((part) => part !== '' && part !== '.');
    const name = parts.slice(stripComponents).join('/');
    const hash = createHash('sha256');
    entry.on('data', (chunk: Buffer) => hash.update(chunk));
    entry.on('end', () => {
      if (name === '') return;
      for (let i = 1; i < name.split('/').length; i++) listing.set(name.split('/').slice(0, i).join('/'), { type: 'dir' });
      if (entry.type === 'Directory') listing.set(name, { type: 'dir' });
      else if (entry.type === 'SymbolicLink') listing.set(name, { type: 'symlink', target: entry.linkpath ?? '' });
      else listing.set(name, { type: 'file', sha256: hash.digest('hex'), executable: ((entry.mode ?? 0) & 0o111) !== 0 });
    });
  });
  parser.end(gunzipSync(tarGz));
  return listing;
}

/**
 * Differences between an installed tree and the archive it came from, file by file (content,
 * executable bit, link targets, nothing missing, nothing extra but the receipt). Empty: intact.
 */
export async function treeDifferences(dir: string, expected: Map<string, Expected>): Promise<string[]> {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const entry of await fs.readdir(dir, { recursive: true, withFileTypes: true })) {
    const full = path.join(entry.parentPath, entry.name);
    const name = path.relative(dir, full).split(path.sep).join('/');
    if (name === '.qm-receipt.json') continue;
    seen.add(name);
    const want = expected.get(name);
    if (want === undefined) {
      problems.push(`${name}: not in the archive`);
      continue;
    }
    const stat = await fs.lstat(full);
    if (want.type === 'dir') {
      if (!stat.isDirectory()) problems.push(`${name}: not a directory`);
    } else if (want.type === 'symlink') {
      if (!stat.isSymbolicLink() || (await fs.readlink(full)) !== want.target) problems.push(`${name}: not a link to ${want.target}`);
    } else if (!stat.isFile()) {
      problems.push(`${name}: not a file`);
    } else {
      if (createHash('sha256').update(await fs.readFile(full)).digest('hex') !== want.sha256) problems.push(`${name}: content differs`);
      if (((stat.mode & 0o111) !== 0) !== want.executable) problems.push(`${name}: executable bit differs`);
    }
  }
  for (const name of expected.keys()) if (!seen.has(name)) problems.push(`${name}: missing`);
  return problems;
}
