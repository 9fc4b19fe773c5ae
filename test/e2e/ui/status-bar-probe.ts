/**
 * Watches one status bar item from inside the page with a MutationObserver, installed before the
 * workbench loads: it keeps every distinct text the item showed (a spinner that lasts a second is
 * not missed between two looks) and answers "until the text matches" when it happens, not by polling.
 * Texts read like the extension's own `item.text`: a codicon span becomes `$(name)` or `$(name~spin)`.
 */
import type { Page } from 'playwright-core';

/** VS Code gives a status bar entry the DOM id `<extension id>.<item id>`. */
export const STATUS_ITEM_DOM_ID = 'quartermaster.quartermaster.quartermaster.toolchains';

/** What PROBE_SCRIPT puts on the page's globalThis; the functions below run in the page and read it. */
interface StatusBarProbe {
  history: string[];
  current(): string | undefined;
  until(source: string, flags: string): Promise<string>;
}

type ProbeGlobal = { __qmStatusBar: StatusBarProbe };

/** Plain JavaScript: it runs in the page, where this repository's TypeScript settings know no DOM. */
const PROBE_SCRIPT = `(() => {
  const id = ${JSON.stringify(STATUS_ITEM_DOM_ID)};
  const history = [];
  const waiters = new Set();
  const render = (item) => {
    const label = item.querySelector('.statusbar-item-label') || item;
    let text = '';
    for (const node of label.childNodes) {
      if (node.nodeType === Node.ELEMENT_NODE && node.classList.contains('codicon')) {
        const classes = [...node.classList];
        const name = classes.find((c) => c.startsWith('codicon-') && !c.startsWith('codicon-modifier-'));
        const modifier = classes.find((c) => c.startsWith('codicon-modifier-'));
        text += '$(' + (name ? name.slice('codicon-'.length) : '?') + (modifier ? '~' + modifier.slice('codicon-modifier-'.length) : '') + ')';
      } else {
        text += node.textContent;
      }
    }
    return text;
  };
  const current = () => {
    const item = document.getElementById(id);
    return item ? render(item) : undefined;
  };
  const check = () => {
    const text = current();
    if (text === undefined) return;
    if (text !== history[history.length - 1]) history.push(text);
    for (const waiter of [...waiters]) {
      if (waiter.pattern.test(text)) {
        waiters.delete(waiter);
        waiter.resolve(text);
      }
    }
  };
  new MutationObserver(check).observe(document, { subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ['class', 'aria-label'] });
  globalThis.__qmStatusBar = {
    history,
    current,
    until: (source, flags) => new Promise((resolve) => {
      waiters.add({ pattern: new RegExp(source, flags), resolve });
      check();
    }),
  };
})();`;

/** Call before the first navigation. */
export async function installStatusBarProbe(page: Page): Promise<void> {
  await page.addInitScript({ content: PROBE_SCRIPT });
}

/** The item's text now, e.g. `$(tools) node 22.12.0  go 1.23.4`; undefined while it is not shown. */
export function statusBarText(page: Page): Promise<string | undefined> {
  return page.evaluate(() => (globalThis as unknown as ProbeGlobal).__qmStatusBar.current());
}

/** Every distinct text the item has shown since the page loaded, oldest first. */
export function statusBarHistory(page: Page): Promise<string[]> {
  return page.evaluate(() => [...(globalThis as unknown as ProbeGlobal).__qmStatusBar.history]);
}

/** Resolves with the item's text once it matches `pattern` (now or at a later change). */
export function untilStatusBar(page: Page, pattern: RegExp): Promise<string> {
  return page.evaluate(
    ({ source, flags }) => (globalThis as unknown as ProbeGlobal).__qmStatusBar.until(source, flags),
    { source: pattern.source, flags: pattern.flags },
  );
}
