/**
 * The extensionTestsPath module: VS Code's extension host loads the bundle (out/test/vscode/index.js)
 * and awaits run(); resolving means exit code 0, rejecting 1. Mocha's tdd interface
 * (suite/test/suiteSetup/...) as VS Code's own tests use, set as globals while each file loads.
 * Mocha is bundled in, so the suite runs in any extension host whatever its Node can `require`.
 *
 * QM_TEST_SESSION (from test/e2e/run-integration.ts) says which VS Code session this is:
 * "untrusted" (restricted mode) runs only the suites whose title starts with "Untrusted", anything
 * else (or unset, as for run-electron.ts) all the others. QM_TEST_GREP narrows either further.
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
  mocha.grep(sessionGrep(process.env.QM_TEST_SESSION, process.env.QM_TEST_GREP));
  const suiteDir = path.join(__dirname, 'suite');
  const files = (await fs.readdir(suiteDir)).filter((name) => name.endsWith('.test.js')).sort();
  if (files.length === 0) throw new Error(`no *.test.js in ${suiteDir}: run npm run build`);
  for (const name of files) mocha.addFile(path.join(suiteDir, name));

  let ran = 0;
  const failures = await new Promise<number>((resolve) => {
    mocha.run(resolve).on('test end', (test) => {
      if (!test.isPending()) ran++;
    });
  });
  if (failures > 0) throw new Error(`${failures} VS Code integration test${failures === 1 ? '' : 's'} failed`);
  // A grep (or a session) that matches nothing would otherwise pass having tested nothing.
  if (ran === 0) throw new Error(`No VS Code integration test ran (session ${process.env.QM_TEST_SESSION ?? 'trusted'}, QM_TEST_GREP ${JSON.stringify(process.env.QM_TEST_GREP ?? '')})`);
}

/**
 * One RegExp for Mocha's one grep, tried on each test's full title (its suites' titles first):
 * the session's suites, and among them those matching QM_TEST_GREP (a regular expression).
 */
function sessionGrep(session: string | undefined, grep: string | undefined): RegExp {
  const untrusted = session === 'untrusted' ? '(?=Untrusted)' : '(?!Untrusted)';
  const narrowed = grep === undefined || grep === '' ? '' : `(?=[\\s\\S]*?(?:${grep}))`;
  return new RegExp(`^${untrusted}${narrowed}`);
}
