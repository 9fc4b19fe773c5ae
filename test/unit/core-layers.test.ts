import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import ts from 'typescript';

const CORE = path.resolve(__dirname, '..', '..', 'src', 'core');

/** A folder of src/core, or a file directly in it ("services", "home"): the units of layering. */
function unitOf(file: string): string {
  const [first, ...rest] = path.relative(CORE, file).split(path.sep);
  return rest.length > 0 ? first! : first!.replace(/\.ts$/, '');
}

/**
 * Which unit imports which, with one import that shows it. Every import counts, type-only ones
 * too: a cycle of types still means two folders can only be understood together.
 */
function importGraph(): Map<string, Map<string, string>> {
  const graph = new Map<string, Map<string, string>>();
  const files = fs.readdirSync(CORE, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts')).map((f) => path.join(CORE, f));
  for (const file of files) {
    const from = unitOf(file);
    const info = ts.preProcessFile(fs.readFileSync(file, 'utf8'), true, true);
    for (const { fileName } of info.importedFiles) {
      if (!fileName.startsWith('.')) continue;
      const target = path.resolve(path.dirname(file), fileName);
      if (!target.startsWith(CORE + path.sep)) continue;
      const to = unitOf(fs.existsSync(`${target}.ts`) || !fs.existsSync(target) ? `${target}.ts` : path.join(target, 'index.ts'));
      if (to === from) continue;
      const edges = graph.get(from) ?? new Map<string, string>();
      if (!edges.has(to)) edges.set(to, `${path.relative(CORE, file)} imports ${fileName}`);
      graph.set(from, edges);
    }
  }
  return graph;
}

/** One cycle, as the imports that make it, or undefined when the graph is acyclic. */
function findCycle(graph: Map<string, Map<string, string>>): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (unit: string): string[] | undefined => {
    state.set(unit, 'visiting');
    stack.push(unit);
    for (const next of graph.get(unit)?.keys() ?? []) {
      if (state.get(next) === 'visiting') {
        const cycle = [...stack.slice(stack.indexOf(next)), next];
        return cycle.slice(0, -1).map((u, i) => graph.get(u)!.get(cycle[i + 1]!)!);
      }
      if (state.get(next) === undefined) {
        const found = visit(next);
        if (found) return found;
      }
    }
    stack.pop();
    state.set(unit, 'done');
    return undefined;
  };
  for (const unit of graph.keys()) {
    if (state.get(unit) !== undefined) continue;
    const found = visit(unit);
    if (found) return found;
  }
  return undefined;
}

describe('src/core layering', () => {
  const graph = importGraph();

  it('has no import cycle between its folders (and top-level files)', () => {
    const cycle = findCycle(graph);
    assert.equal(cycle, undefined, `a folder cycle:\n  ${cycle?.join('\n  ')}`);
  });

  it('keeps the leaves leaves: version specs and the door for untrusted names import only errors', () => {
    for (const leaf of ['resolve', 'paths']) {
      assert.deepEqual([...(graph.get(leaf)?.keys() ?? [])].filter((unit) => unit !== 'errors'), [], `${leaf} imports only errors`);
    }
  });

  it('sees the imports it checks (the graph is not empty by mistake)', () => {
    assert.ok(graph.get('services')?.has('install'), 'services imports install');
    assert.ok(graph.get('install')?.has('plan'), 'install imports plan (a type-only import counts)');
  });
});
