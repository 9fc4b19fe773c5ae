// A named import: esbuild then bundles this one field, not the whole package.json (15 KB that
// every start of `qm` would parse).
import { version } from '../../package.json';

/** The version the build was made from, read from package.json (bundled by esbuild). */
export const QM_VERSION: string = version;
