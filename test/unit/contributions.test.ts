import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { QM_CLI, ROOT, runQm } from '../helpers/child';
import { tempHome } from '../helpers/temp-home';
import { MANIFEST_FILE_NAMES } from '../../src/core/manifest/find';

// package.json's contributions against docs/extension.md, the files they name, the .vsix
// allowlist and the real CLI's output. Nothing here loads VS Code.

interface Command {
  command: string;
  title: string;
  category?: string;
  icon?: string | { light: string; dark: string };
}

interface MenuItem {
  command: string;
  alt?: string;
  when?: string;
  group?: string;
}

interface Setting {
  type: string;
  default: unknown;
  enum?: string[];
  enumDescriptions?: string[];
  minimum?: number;
  maximum?: number;
  scope?: string;
  restricted?: boolean;
  markdownDescription?: string;
}

interface WalkthroughStep {
  id: string;
  title: string;
  description: string;
  media: { markdown?: string; image?: string | Record<string, string>; svg?: string; altText?: string };
  completionEvents?: string[];
}

interface ProblemPattern {
  regexp: string;
  severity?: number;
  code?: number;
  file: number;
  line: number;
  column: number;
  message: number;
}

interface Manifest {
  name: string;
  publisher: string;
  main: string;
  icon: string;
  bin: Record<string, string>;
  activationEvents: string[];
  contributes: {
    commands: Command[];
    menus: Record<string, MenuItem[]>;
    keybindings?: Array<{ command: string }>;
    viewsContainers: Record<string, Array<{ id: string; title: string; icon: string }>>;
    views: Record<string, Array<{ id: string; name: string; icon?: string }>>;
    viewsWelcome: Array<{ view: string; contents: string; when?: string }>;
    configuration: { title: string; properties: Record<string, Setting> };
    languages: Array<{ id: string; filenames?: string[]; configuration?: string }>;
    grammars: Array<{ language: string; scopeName: string; path: string }>;
    taskDefinitions: Array<{ type: string; required?: string[]; properties: Record<string, { type: string; enum?: string[]; items?: { type: string } }> }>;
    problemMatchers: Array<{ name: string; owner: string; source?: string; fileLocation: string | string[]; pattern: ProblemPattern }>;
    walkthroughs: Array<{ id: string; title: string; steps: WalkthroughStep[] }>;
  };
}

const manifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as Manifest;
const contributes = manifest.contributes;
const docs = readFileSync(path.join(ROOT, 'docs', 'extension.md'), 'utf8');

const contributed = new Set(contributes.commands.map((c) => c.command));
// VS Code's own commands that walkthrough steps and welcome views may link to.
const BUILT_IN_COMMANDS = new Set([
  'workbench.action.openWalkthrough',
  'workbench.action.openSettings',
  'workbench.action.quickOpen',
  'workbench.action.terminal.new',
  'workbench.action.tasks.configureTaskRunner',
]);

function isKnownCommand(id: string): boolean {
  // The language server's commands are registered at run time by vscode-languageclient.
  return contributed.has(id) || id.startsWith('quartermaster.server.') || BUILT_IN_COMMANDS.has(id);
}

/** `[label](command:id?args)` links in markdown-ish text, as id and decoded arguments. */
function commandLinks(text: string): Array<{ id: string; args: unknown }> {
  return [...text.matchAll(/\]\(command:([\w.-]+)(?:\?([^)\s]+))?\)/g)].map((m) => ({
    id: m[1]!,
    args: m[2] === undefined ? undefined : (JSON.parse(decodeURIComponent(m[2])) as unknown),
  }));
}

/** The rows of the markdown table whose header row starts with `| first |`, as cells. */
function docsTable(first: string): string[][] {
  const lines = docs.split('\n');
  const start = lines.findIndex((line) => line.startsWith(`| ${first} |`));
  assert.ok(start >= 0, `docs/extension.md has a table starting with "${first}"`);
  const rows: string[][] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    // Cells split on `|` not written as `\|` (the enum column).
    rows.push(line.slice(1, -1).split(/(?<!\\)\|/).map((cell) => cell.trim().replace(/\\\|/g, '|')));
  }
  return rows;
}

function unquote(cell: string): string {
  return cell.replace(/^`(.*)`$/, '$1');
}

// --- the .vsix allowlist, read the way vsce reads it ---------------------------------------

// The minimatch vsce itself resolves, so the patterns mean here what they mean to vsce.
const { minimatch } = createRequire(require.resolve('@vscode/vsce/package.json'))('minimatch') as {
  minimatch: (file: string, pattern: string, options?: { dot?: boolean }) => boolean;
};

const ignoreLines = readFileSync(path.join(ROOT, '.vscodeignore'), 'utf8')
  .split(/\r?\n/)
  .map((line) => line.trim())
  .filter((line) => line !== '' && !line.startsWith('#'));

/**
 * Whether vsce puts `file` (relative to the root) into the .vsix, by vsce's rule (collectFiles in
 * @vscode/vsce/out/package.js): ignored by some pattern and not taken back by a `!` pattern means
 * left out; a pattern without a wildcard in its last segment also covers a folder (`p/**`);
 * package.json and README.md always go in.
 */
function shipped(file: string): boolean {
  if (['package.json', 'README.md'].includes(file)) return true;
  const expand = (pattern: string): string[] => (/(^|\/)[^/]*\*[^/]*$/.test(pattern) ? [pattern] : [pattern, `${pattern.replace(/\/$/, '')}/**`]);
  const ignores = ignoreLines.filter((line) => !line.startsWith('!')).flatMap(expand);
  const keeps = ignoreLines.filter((line) => line.startsWith('!')).map((line) => line.slice(1)).flatMap(expand);
  const matches = (pattern: string): boolean => minimatch(file, pattern.replace(/^\//, ''), { dot: true });
  return !ignores.some(matches) || keeps.some(matches);
}

/** A path as package.json writes it (`./syntaxes/x.json`, `media/x.svg`), relative to the root. */
function normalize(file: string): string {
  return path.posix.normalize(file).replace(/^\.\//, '');
}

describe('package.json contributions', () => {
  describe('commands', () => {
    it('are unique, each with a title and the category Quartermaster', () => {
      assert.equal(contributed.size, contributes.commands.length, 'no command id twice');
      for (const command of contributes.commands) {
        assert.match(command.command, /^quartermaster\.[a-zA-Z]+$/);
        assert.ok(command.title.trim(), `${command.command} has a title`);
        assert.equal(command.category, 'Quartermaster', command.command);
        if (typeof command.icon === 'string') assert.match(command.icon, /^\$\([a-z-~]+\)$/, `${command.command}: a codicon`);
      }
    });

    it('are the ones docs/extension.md lists, with the same titles', () => {
      const documented = new Map(docsTable('id').map(([id, title]) => [unquote(id!), title]));
      assert.deepEqual([...contributed].sort(), [...documented.keys()].sort());
      for (const command of contributes.commands) assert.equal(command.title, documented.get(command.command), command.command);
    });

    it('that menus and keybindings name are contributed', () => {
      for (const [menu, items] of Object.entries(contributes.menus)) {
        for (const item of items) {
          assert.ok(isKnownCommand(item.command), `${menu}: ${item.command}`);
          if (item.alt) assert.ok(isKnownCommand(item.alt), `${menu}: alt ${item.alt}`);
        }
      }
      for (const binding of contributes.keybindings ?? []) assert.ok(isKnownCommand(binding.command), `keybinding ${binding.command}`);
    });

    it('refresh is only in the view; uninstall and cancel are on the items the view marks', () => {
      const palette = contributes.menus.commandPalette ?? [];
      assert.deepEqual(palette.find((item) => item.command === 'quartermaster.refresh'), { command: 'quartermaster.refresh', when: 'false' });
      const title = contributes.menus['view/title'] ?? [];
      for (const id of ['quartermaster.refresh', 'quartermaster.cleanUp', 'quartermaster.cancelDownloads']) {
        assert.ok(title.some((item) => item.command === id && item.when?.startsWith('view == quartermaster.toolchains') === true), `${id} in the view title`);
      }
      const itemMenu = contributes.menus['view/item/context'] ?? [];
      const on = (command: string, contextValue: string): boolean =>
        itemMenu.some((item) => item.command === command && item.group === 'inline' && item.when?.includes(`viewItem == ${contextValue}`) === true);
      assert.ok(on('quartermaster.uninstall', 'toolchain'));
      assert.ok(on('quartermaster.cancelDownloads', 'download'));
      assert.deepEqual(palette.find((item) => item.command === 'quartermaster.cancelDownloads'), { command: 'quartermaster.cancelDownloads', when: 'quartermaster.downloading' }, 'Cancel Downloads is in the palette only while something downloads');
      for (const id of ['quartermaster.useInManifest', 'quartermaster.copyToolchainPath', 'quartermaster.revealToolchain', 'quartermaster.openTerminalHere']) {
        assert.ok(itemMenu.some((item) => item.command === id && item.when?.includes('viewItem == toolchain') === true && item.group !== 'inline'), `${id} in a toolchain's context menu`);
        assert.deepEqual(palette.find((item) => item.command === id), { command: id, when: 'false' }, `${id} needs an item: not in the palette`);
      }
    });
  });

  describe('view, welcome and walkthrough', () => {
    it('the Toolchains view sits in its own activity bar container', () => {
      assert.deepEqual(contributes.viewsContainers.activitybar, [{ id: 'quartermaster', title: 'Toolchains', icon: 'media/toolchains.svg' }]);
      assert.deepEqual(contributes.views.quartermaster?.map((view) => [view.id, view.name]), [['quartermaster.toolchains', 'Toolchains']]);
    });

    it('welcome contents link only to commands that exist and to this walkthrough', () => {
      const walkthroughs = new Set(contributes.walkthroughs.map((w) => `${manifest.publisher}.${manifest.name}#${w.id}`));
      assert.ok(contributes.viewsWelcome.length > 0);
      for (const welcome of contributes.viewsWelcome) {
        assert.equal(welcome.view, 'quartermaster.toolchains');
        const links = commandLinks(welcome.contents);
        assert.ok(links.some((link) => link.id === 'quartermaster.installToolchain'));
        for (const link of links) {
          assert.ok(isKnownCommand(link.id), link.id);
          if (link.id === 'workbench.action.openWalkthrough') assert.ok(walkthroughs.has((link.args as string[])[0]!), JSON.stringify(link.args));
        }
      }
    });

    it('walkthrough steps complete on commands and settings that exist', () => {
      const [walkthrough] = contributes.walkthroughs;
      assert.equal(walkthrough?.title, 'Get started with Quartermaster');
      assert.ok(walkthrough.steps.length >= 3 && walkthrough.steps.length <= 4);
      for (const step of walkthrough.steps) {
        assert.ok(step.completionEvents && step.completionEvents.length > 0, `${step.id} says when it is done`);
        for (const event of step.completionEvents) {
          const [kind, ...rest] = event.split(':');
          const target = rest.join(':');
          if (kind === 'onCommand') assert.ok(isKnownCommand(target), `${step.id}: ${event}`);
          else if (kind === 'onSettingChanged') assert.ok(contributes.configuration.properties[target], `${step.id}: ${event}`);
          else if (kind === 'onView') assert.ok(Object.values(contributes.views).flat().some((v) => v.id === target), `${step.id}: ${event}`);
          else assert.fail(`${step.id}: ${event} is not an event this test knows`);
        }
        for (const link of commandLinks(step.description)) assert.ok(isKnownCommand(link.id), `${step.id}: ${link.id}`);
        assert.ok(step.media.markdown ?? step.media.image ?? step.media.svg, `${step.id} has media`);
      }
    });
  });

  describe('files', () => {
    /** Every file package.json names, with where it names it. */
    function namedFiles(): Array<[string, string]> {
      const files: Array<[string, string]> = [['icon', manifest.icon]];
      for (const [where, containers] of Object.entries(contributes.viewsContainers)) for (const c of containers) files.push([`viewsContainers.${where}`, c.icon]);
      for (const view of Object.values(contributes.views).flat()) if (view.icon) files.push([`views ${view.id}`, view.icon]);
      for (const language of contributes.languages) if (language.configuration) files.push([`languages ${language.id}`, language.configuration]);
      for (const grammar of contributes.grammars) files.push([`grammars ${grammar.scopeName}`, grammar.path]);
      for (const walkthrough of contributes.walkthroughs) {
        for (const step of walkthrough.steps) {
          const { markdown, image, svg } = step.media;
          for (const file of [markdown, svg, ...(typeof image === 'string' ? [image] : Object.values(image ?? {}))]) {
            if (file) files.push([`walkthrough step ${step.id}`, file]);
          }
        }
      }
      return files.map(([where, file]) => [where, normalize(file)]);
    }

    it('exist and go into the .vsix', () => {
      const files = namedFiles();
      assert.ok(files.length >= 8);
      for (const [where, file] of files) {
        assert.ok(existsSync(path.join(ROOT, file)), `${where}: ${file} exists`);
        assert.ok(shipped(file), `${where}: ${file} is in the .vscodeignore allowlist`);
      }
    });

    it('every bundle build.mjs emits goes in (one is loaded lazily at run time, so nothing else would notice it missing)', () => {
      const build = readFileSync(path.join(ROOT, 'build.mjs'), 'utf8');
      const block = build.slice(build.indexOf('const entries = {'), build.indexOf('};', build.indexOf('const entries = {')));
      const names = [...block.matchAll(/^\s+'?([\w-]+)'?: 'src\//gm)].map((match) => match[1]!);
      assert.ok(names.length >= 6, `found the entries: ${names.join(', ')}`);
      for (const name of names) assert.ok(shipped(`out/${name}.js`), `out/${name}.js is in the .vscodeignore allowlist`);
    });

    it('the bundles go in; sources, source maps, test bundles and node_modules stay out', () => {
      for (const file of [manifest.main, ...Object.values(manifest.bin), 'out/server.js', 'LICENSE', 'language-configuration.json']) {
        assert.ok(shipped(normalize(file)), file);
      }
      for (const file of [
        'out/extension.js.map',
        'out/test/vscode/index.js',
        'src/extension/extension.ts',
        'test/unit/contributions.test.ts',
        'node_modules/undici/package.json',
        'docs/extension.md',
        'tsconfig.json',
        '.vscodeignore',
        'quartermaster.vsix',
      ]) {
        assert.ok(!shipped(file), `${file} stays out`);
      }
    });

    it('walkthrough pages link to nothing outside the package', async () => {
      for (const [, file] of namedFiles().filter(([where]) => where.startsWith('walkthrough'))) {
        const text = await fs.readFile(path.join(ROOT, file), 'utf8');
        assert.doesNotMatch(text, /!\[[^\]]*\]\(https?:/, `${file}: no remote images`);
      }
    });

    it('each grammar belongs to a contributed language and declares the scope it is registered under', () => {
      const languages = new Set(contributes.languages.map((language) => language.id));
      for (const grammar of contributes.grammars) {
        assert.ok(languages.has(grammar.language), grammar.language);
        const text = JSON.parse(readFileSync(path.join(ROOT, grammar.path), 'utf8')) as { scopeName: string };
        assert.equal(text.scopeName, grammar.scopeName);
      }
      assert.deepEqual(contributes.languages.find((language) => language.id === 'qm-toml')?.filenames, ['qm.toml']);
    });
  });

  describe('settings', () => {
    const properties = contributes.configuration.properties;

    it('match docs/extension.md: keys, types, defaults, enums, ranges, scopes', () => {
      const rows = docsTable('key');
      assert.deepEqual(Object.keys(properties).sort(), rows.map(([key]) => unquote(key!)).sort());
      for (const [key, type, defaultCell, scopeCell] of rows) {
        const setting = properties[unquote(key!)]!;
        const documentedDefault = unquote(defaultCell!);
        let expected: unknown;
        try {
          expected = JSON.parse(documentedDefault);
        } catch {
          expected = documentedDefault;
        }
        assert.deepEqual(setting.default, expected, `${key} default`);
        const enumValues = [...type!.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
        if (enumValues.length > 1) assert.deepEqual(setting.enum, enumValues, `${key} enum`);
        else assert.ok(type!.startsWith(setting.type), `${key}: ${setting.type} as documented (${type})`);
        const range = /(\d+)–(\d+)/.exec(type!);
        if (range) assert.deepEqual([setting.minimum, setting.maximum], [Number(range[1]), Number(range[2])], `${key} range`);
        const [scope, restricted] = scopeCell!.split(',').map((part) => part.trim());
        assert.equal(setting.scope, scope, `${key} scope`);
        assert.equal(setting.restricted === true, restricted === 'restricted', `${key} restricted`);
      }
    });

    it('a repository cannot move the cache or redirect downloads', () => {
      for (const key of ['home', 'mirrors', 'proxy', 'caCertificates', 'allowHttpHosts']) {
        const setting = properties[`quartermaster.${key}`]!;
        assert.equal(setting.scope, 'machine', key);
        assert.equal(setting.restricted, true, key);
      }
    });

    it('each is described, and each enum value too', () => {
      for (const [key, setting] of Object.entries(properties)) {
        assert.ok(setting.markdownDescription?.trim(), key);
        if (setting.enum) assert.equal(setting.enumDescriptions?.length, setting.enum.length, key);
      }
    });
  });

  describe('activation', () => {
    it('lists only what VS Code does not derive from the contributions: each file at a folder\'s root (one stat), then anywhere (a search VS Code may time out on in a large tree)', () => {
      const names = ['qm.toml', '.tool-versions', '.nvmrc', '.node-version', '.python-version', '.java-version', '.sdkmanrc', 'rust-toolchain.toml', 'rust-toolchain'];
      assert.deepEqual(manifest.activationEvents, [...names.map((name) => `workspaceContains:${name}`), ...names.map((name) => `workspaceContains:**/${name}`)]);
    });

    it('every version file src/core reads activates the extension, except package.json and go.mod (every JS and Go project has one)', () => {
      const activating = new Set(manifest.activationEvents.filter((event) => event.startsWith('workspaceContains:**/')).map((event) => event.replace('workspaceContains:**/', '')));
      for (const name of MANIFEST_FILE_NAMES) assert.equal(activating.has(name), name !== 'package.json' && name !== 'go.mod', name);
    });

    it('word-based suggestions are off in qm.toml and qm.lock: completion offers only what is valid', () => {
      const defaults = (contributes as { configurationDefaults?: Record<string, Record<string, unknown>> }).configurationDefaults ?? {};
      assert.equal(defaults['[qm-toml]']?.['editor.wordBasedSuggestions'], 'off');
      assert.equal(defaults['[qm-lock]']?.['editor.wordBasedSuggestions'], 'off');
    });
  });

  describe('task type and problem matcher', () => {
    it('the qm task type: command install or exec, tools, args, cwd', () => {
      const [definition] = contributes.taskDefinitions;
      assert.equal(definition?.type, 'qm');
      assert.deepEqual(definition.required, ['command']);
      assert.deepEqual(definition.properties.command?.enum, ['install', 'exec']);
      assert.deepEqual(definition.properties.tools?.items, { type: 'string', pattern: '^[A-Za-z0-9_-]+(@.+)?$', patternErrorMessage: 'tool or tool@version, e.g. node@22' });
      assert.equal(definition.properties.args?.type, 'array');
      assert.equal(definition.properties.cwd?.type, 'string');
    });

    const matcher = contributes.problemMatchers.find((m) => m.name === 'qm')!;

    /** What VS Code's problem matcher reads from one line: JavaScript RegExp, group numbers from the pattern. */
    function read(line: string): Record<string, string | undefined> | undefined {
      const found = new RegExp(matcher.pattern.regexp).exec(line);
      if (!found) return undefined;
      const { file, line: lineGroup, column, message, code, severity } = matcher.pattern;
      return {
        file: found[file],
        line: found[lineGroup],
        column: found[column],
        message: found[message],
        code: code === undefined ? undefined : found[code],
        severity: severity === undefined ? undefined : found[severity],
      };
    }

    it('$qm: owner quartermaster, source qm, absolute paths', () => {
      assert.ok(matcher);
      assert.equal(matcher.owner, 'quartermaster');
      assert.equal(matcher.source, 'qm');
      assert.equal(matcher.fileLocation, 'absolute');
    });

    it('$qm reads the built CLI\'s errors and warnings about a bad qm.toml', async () => {
      assert.ok(existsSync(QM_CLI), `${QM_CLI} is built (npm run build; npm test builds first)`);
      const { home, dispose } = await tempHome('qm-matcher-');
      try {
        // process.cwd() in the CLI is the real path; the temp dir may sit behind a symlink.
        const project = await fs.realpath(home);
        const manifestFile = path.join(project, 'qm.toml');
        const env = { QM_HOME: path.join(project, '.qm'), QM_COORDINATOR: 'off', QM_MIRROR_NODE: 'http://127.0.0.1:9/dist' };

        await fs.writeFile(manifestFile, '[tools]\nnode = 22\n');
        const bad = await runQm(['install'], { cwd: project, env });
        assert.equal(bad.code, 2, bad.stderr);
        const errors = bad.stderr.split('\n').map(read).filter((problem) => problem !== undefined);
        assert.equal(errors.length, 1, bad.stderr);
        assert.deepEqual({ ...errors[0], message: undefined }, { file: manifestFile, line: '2', column: '8', code: 'EMANIFEST', severity: 'error', message: undefined });
        assert.match(errors[0]!.message!, /^The version of tool "node" must be a string/);

        // Warnings carry no code; an error with no place in a file is not a problem in one.
        await fs.writeFile(manifestFile, '[tools]\nnode = "22"\nfoo = "1"\n');
        const offline = await runQm(['install', '--offline'], { cwd: project, env });
        assert.notEqual(offline.code, 0, offline.stderr);
        assert.match(offline.stderr, /^qm: error E[A-Z]+: /m);
        const problems = offline.stderr.split('\n').map(read).filter((problem) => problem !== undefined);
        assert.equal(problems.length, 1, offline.stderr);
        assert.deepEqual({ ...problems[0], message: undefined }, { file: manifestFile, line: '3', column: '1', code: undefined, severity: 'warning', message: undefined });
        assert.match(problems[0]!.message!, /^Unknown tool "foo"/);
      } finally {
        await dispose();
      }
    });

    it('$qm: Windows paths and colons in the message', () => {
      assert.deepEqual(read('qm: error EMANIFEST: C:\\work\\app\\qm.toml:3:9: TOML syntax error: expected "=": got ":"'), {
        file: 'C:\\work\\app\\qm.toml',
        line: '3',
        column: '9',
        code: 'EMANIFEST',
        severity: 'error',
        message: 'TOML syntax error: expected "=": got ":"',
      });
      assert.equal(read('qm: error ENETWORK: https://nodejs.org/dist/index.json: 503'), undefined);
      assert.equal(read('  qm: error EMANIFEST: /x/qm.toml:1:1: indented'), undefined);
    });
  });
});
