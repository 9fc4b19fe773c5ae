import { setToolSpec } from '../manifest/edit';
import { checkProjectWrite, projectFileAt, readProjectText } from '../paths/project-files';
import type { CoreServices } from '../services';
import { writeFileAtomic } from '../store/atomic-write';
import { withProjectFileLock } from './file-lock';

/**
 * Sets tools' specs in a qm.toml, as `qm use` and Switch Version do, creating the file when
 * there is none. The file is read afresh under its lock, each spec set keeping comments and
 * layout, and the result replaces it atomically: two processes pinning different tools at once
 * both land. Never through a symlink, never onto anything but a regular file (EUNSAFEPATH).
 * Returns the text written.
 */
export async function pinToolSpecs(
  core: Pick<CoreServices, 'locks'>,
  file: string,
  specs: ReadonlyArray<{ name: string; spec: string }>,
  signal?: AbortSignal,
): Promise<string> {
  const target = projectFileAt(file);
  return withProjectFileLock(core.locks, target.path, `pin ${specs.map((s) => `${s.name}@${s.spec}`).join(' ')} in ${target.path}`, async () => {
    const { exists } = await checkProjectWrite(target);
    const before = exists ? ((await readProjectText(target.path)) ?? '') : '';
    const after = specs.reduce((text, { name, spec }) => setToolSpec(text, name, spec), before);
    if (after !== before || !exists) await writeFileAtomic(target.path, after);
    return after;
  }, signal);
}
