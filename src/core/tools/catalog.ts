/**
 * The tools Quartermaster installs, as data: names, titles, the names people bring from asdf,
 * spec keywords, and where each one's downloads come from (its mirror variable). The CLI, the
 * language server, the extension's settings and pickers all read this list; none spells a tool
 * name of its own. No provider code is imported here, so the CLI's fast path and the language
 * server load only this.
 */
import { isGithubToolName } from '../paths/safe-names';

/** A prefix of upstream URLs that a mirror base replaces: `from` -> `<base><suffix>`. */
export interface MirroredPrefix {
  from: string;
  suffix: string;
}

/** The tools with a provider of their own, in the order menus show them. */
export const TOOL_NAMES = Object.freeze(['node', 'go', 'zig', 'python', 'java', 'rust', 'deno', 'bun'] as const);
export type BuiltInTool = (typeof TOOL_NAMES)[number];

export interface ToolInfo {
  /** The name in qm.toml, `qm install <name>@...`, receipts and qm.lock. */
  name: BuiltInTool;
  title: string;
  /** asdf plugin names and habits ("nodejs", "golang", "temurin") that mean this tool. */
  aliases: readonly string[];
  /** A realistic version for messages that show what to write. */
  example: string;
  /** Whether "lts" (and "lts/<codename>" for Node) means anything for this tool. */
  lts: boolean;
  /** Spec words that mean "the newest stable release" besides "latest" (rustup's "stable"). */
  latestWords: readonly string[];
  /** QM_MIRROR_<NAME> and the `quartermaster.mirrors` key: a base URL replacing `upstream`. */
  mirror: { env: string; upstream: readonly MirroredPrefix[]; replaces: string };
}

const GITHUB = 'https://github.com';

function githubDownloads(repo: string): MirroredPrefix[] {
  return [{ from: `${GITHUB}/${repo}/releases/download/`, suffix: '/' }];
}

export const TOOLS: readonly ToolInfo[] = Object.freeze([
  {
    name: 'node',
    title: 'Node.js',
    aliases: ['nodejs'],
    example: '22.11.0',
    lts: true,
    latestWords: [],
    mirror: { env: 'QM_MIRROR_NODE', upstream: [{ from: 'https://nodejs.org/dist/', suffix: '/' }], replaces: 'https://nodejs.org/dist' },
  },
  {
    name: 'go',
    title: 'Go',
    aliases: ['golang'],
    example: '1.23.4',
    lts: false,
    latestWords: [],
    mirror: { env: 'QM_MIRROR_GO', upstream: [{ from: 'https://go.dev/dl/', suffix: '/' }], replaces: 'https://go.dev/dl' },
  },
  {
    name: 'zig',
    title: 'Zig',
    aliases: ['ziglang'],
    example: '0.13.0',
    lts: false,
    latestWords: [],
    mirror: { env: 'QM_MIRROR_ZIG', upstream: [{ from: 'https://ziglang.org/download/', suffix: '/' }], replaces: 'https://ziglang.org/download' },
  },
  {
    name: 'python',
    title: 'Python',
    aliases: ['cpython', 'python3'],
    example: '3.12.8',
    lts: false,
    latestWords: [],
    mirror: {
      env: 'QM_MIRROR_PYTHON',
      upstream: githubDownloads('astral-sh/python-build-standalone'),
      replaces: `${GITHUB}/astral-sh/python-build-standalone/releases/download`,
    },
  },
  {
    name: 'java',
    title: 'Java (Eclipse Temurin)',
    aliases: ['temurin', 'jdk', 'openjdk'],
    example: '21.0.5+11',
    lts: true,
    latestWords: [],
    mirror: { env: 'QM_MIRROR_JAVA', upstream: [{ from: 'https://api.adoptium.net/', suffix: '/' }], replaces: 'https://api.adoptium.net' },
  },
  {
    name: 'rust',
    title: 'Rust',
    aliases: ['rustc', 'rustup'],
    example: '1.83.0',
    lts: false,
    latestWords: ['stable'],
    mirror: { env: 'QM_MIRROR_RUST', upstream: [{ from: 'https://static.rust-lang.org/', suffix: '/' }], replaces: 'https://static.rust-lang.org' },
  },
  {
    name: 'deno',
    title: 'Deno',
    aliases: [],
    example: '2.1.4',
    lts: false,
    latestWords: [],
    mirror: { env: 'QM_MIRROR_DENO', upstream: githubDownloads('denoland/deno'), replaces: `${GITHUB}/denoland/deno/releases/download` },
  },
  {
    name: 'bun',
    title: 'Bun',
    aliases: [],
    example: '1.1.38',
    lts: false,
    latestWords: [],
    mirror: { env: 'QM_MIRROR_BUN', upstream: githubDownloads('oven-sh/bun'), replaces: `${GITHUB}/oven-sh/bun/releases/download` },
  },
] satisfies ToolInfo[]);

/**
 * GitHub itself, for every GitHub-hosted download and the releases API: one base replaces
 * github.com, api.github.com (as `<base>/api/v3`, GitHub Enterprise's spelling) and
 * raw.githubusercontent.com (as `<base>/raw`). A tool's own mirror variable wins over it.
 */
export const GITHUB_MIRROR: ToolInfo['mirror'] = Object.freeze({
  env: 'QM_MIRROR_GITHUB',
  upstream: [
    { from: `${GITHUB}/`, suffix: '/' },
    { from: 'https://api.github.com/', suffix: '/api/v3/' },
    { from: 'https://raw.githubusercontent.com/', suffix: '/raw/' },
  ],
  replaces: 'https://github.com, https://api.github.com and https://raw.githubusercontent.com',
});

/** Keys of `quartermaster.mirrors` and suffixes of QM_MIRROR_*: every tool, then "github". */
export const MIRROR_KEYS: readonly string[] = Object.freeze([...TOOL_NAMES, 'github']);

export { GITHUB_TOOL, toolPathSegment } from '../paths/safe-names';

export function toolInfo(name: string): ToolInfo | undefined {
  return TOOLS.find((tool) => tool.name === name);
}

export function isBuiltInTool(name: string): name is BuiltInTool {
  return (TOOL_NAMES as readonly string[]).includes(name);
}

/** A name Quartermaster can install: one of TOOL_NAMES, or `github:owner/repo`. */
export function isKnownTool(name: string): boolean {
  return toolInfo(name) !== undefined || isGithubTool(name);
}

/** `github:owner/repo`: any GitHub release, by the generic backend. */
export function isGithubTool(name: string): boolean {
  return isGithubToolName(name);
}

/** The tool an alias (asdf's "nodejs", "golang", ...) or a name stands for. */
export function canonicalTool(name: string): string | undefined {
  const lower = name.toLowerCase();
  return TOOLS.find((tool) => tool.name === lower || tool.aliases.includes(lower))?.name;
}

/** How people write a tool's name: "Node.js", "Python", or `owner/repo` for a GitHub release. */
export function toolTitle(name: string): string {
  return toolInfo(name)?.title ?? (isGithubTool(name) ? name.slice('github:'.length) : name);
}
