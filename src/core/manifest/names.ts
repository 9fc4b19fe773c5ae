import type { ManifestKind } from './types';

// The manifest file names alone, without their parsers: what `qm which` and `qm env` need to find
// a project (src/cli/fast-path.ts), kept free of imports so that finding loads nothing else.

/** The version files other tools' users already have, read as mise and the language tools read them. */
export const VERSION_FILE_NAMES = ['.python-version', '.java-version', '.sdkmanrc', 'rust-toolchain.toml', 'rust-toolchain', 'go.mod', 'package.json'] as const;
export type VersionFileKind = (typeof VERSION_FILE_NAMES)[number];

/**
 * Manifest file names, most preferred first: within one directory the first present wins, and
 * the version files beside it add the tools it does not declare (qm.toml wins for the others).
 */
export const MANIFEST_FILE_NAMES: readonly ManifestKind[] = ['qm.toml', '.tool-versions', '.nvmrc', '.node-version', ...VERSION_FILE_NAMES];
