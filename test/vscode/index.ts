/**
 * The extensionTestsPath module: VS Code's extension host loads the bundle (out/test/vscode/index.js)
 * and awaits run(); resolving means exit code 0, rejecting 1. Mocha's tdd interface
 * (suite/test/suiteSetup/...) as VS Code's own tests use, set as globals while each file loads.
 * Mocha is bundled in, so the suite runs in any extension host whatever its Node can `require`.
 */
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import Mocha from 'mocha';

export async function run(): Promise<void> {
  const mocha = new Mocha({
    ui: 'tdd',
    reporter: 'spec',
    color: false, // the output travels through the browser console or a log, not a terminal
    timeout: 60_000,
  });
  const grep = process.env.QM_TEST_GREP;
  if (grep !== undefined && grep !== '') mocha.grep(grep);
  const suiteDir = path.join(__dirname, 'suite');
  const files = (await fs.readdir(suiteDir)).filter((name) => name.endsWith('.test.js')).sort();
  if (files.length === 0) throw new Error(`no *.test.js in ${suiteDir}: run npm run build`);
  for (const name of files) mocha.addFile(path.join(suiteDir, name));

  const failures = await new Promise<number>((resolve) => mocha.run(resolve));
  if (failures > 0) throw new Error(`${failures} VS Code integration test${failures === 1 ? '' : 's'} failed`);
}
