import * as nodeModule from 'node:module';
import { defaultHome, HomeLayout } from '../core/home';

/**
 * On Node 22.1 and later, keeps V8's compiled code for the bundles loaded after this call (the
 * full CLI, undici) under QM_HOME, so later runs skip most of parsing and compiling them. Does
 * nothing on Node 20 (no module.enableCompileCache), when NODE_COMPILE_CACHE already chose a
 * place (Node enabled it before any code ran) or NODE_DISABLE_COMPILE_CACHE is set, or when
 * QM_HOME is unusable (the command itself reports that). A cache only ever saves time.
 */
export function enableCompileCache(env: NodeJS.ProcessEnv): void {
  const enable = (nodeModule as { enableCompileCache?: (dir?: string) => unknown }).enableCompileCache;
  if (enable === undefined || env.NODE_COMPILE_CACHE || env.NODE_DISABLE_COMPILE_CACHE) return;
  try {
    enable(new HomeLayout(defaultHome(env)).compileCacheDir);
  } catch {
    // No cache this time.
  }
}
