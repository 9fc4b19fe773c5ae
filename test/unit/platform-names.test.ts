import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Platform } from '../../src/core/platform';
import { IndexCache } from '../../src/core/providers/index-cache';
import { storePlatform } from '../../src/core/providers/platform-names';
import { createProviders, providerFor } from '../../src/core/providers/registry';
import { TOOL_NAMES } from '../../src/core/tools/catalog';

describe('storePlatform', () => {
  it("names every tool's tree directory exactly as its provider lays the tree out, on every platform", () => {
    // No I/O happens: layout() is pure, the cache is never asked.
    const indexes = new IndexCache({ dir: '/nonexistent', fetcher: { downloadBuffer: () => Promise.reject(new Error('no network in this test')) } });
    const providers = createProviders(indexes);
    const platforms: Platform[] = (['linux', 'darwin', 'win32'] as const).flatMap((os) => (['x64', 'arm64'] as const).map((arch) => ({ os, arch })));
    for (const tool of [...TOOL_NAMES, 'github:cli/cli'] as const) {
      for (const platform of platforms) {
        assert.equal(storePlatform(tool, platform), providerFor(providers, tool).layout(platform).platform, `${tool} on ${platform.os}-${platform.arch}`);
      }
    }
  });
});
