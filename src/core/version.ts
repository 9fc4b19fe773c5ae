import manifest from '../../package.json';

/** The version the build was made from, read from package.json (bundled by esbuild). */
export const QM_VERSION: string = manifest.version;
