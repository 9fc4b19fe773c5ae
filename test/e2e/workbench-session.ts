/**
 * The life of one end-to-end session, shared by test:vscode and test:e2e: a fixture world, VS
 * Code's server on it, and a Chromium page — each torn down in reverse order, whatever happens.
 */
import type { Page } from 'playwright-core';
import { launchChromium } from './browser';
import { FixtureWorld } from './fixture-world';
import { VsCodeServer, type VsCodeServerOptions } from './vscode-server';

export interface WorkbenchSession {
  world: FixtureWorld;
  server: VsCodeServer;
  page: Page;
}

export interface WorkbenchSessionOptions {
  /** Runs on the fresh world before the server starts (rewrite the workspace, slow the mirror, ...). */
  prepare?: (world: FixtureWorld) => Promise<void>;
  /** The server's options for this world (its env is usually `world.env` plus extras). */
  server: (world: FixtureWorld) => VsCodeServerOptions;
  /** Told once the server listens, before the browser starts. */
  onServer?: (server: VsCodeServer, world: FixtureWorld) => void;
}

export async function withWorkbenchSession<T>(options: WorkbenchSessionOptions, run: (session: WorkbenchSession) => Promise<T>): Promise<T> {
  const world = await FixtureWorld.create();
  try {
    await options.prepare?.(world);
    const server = await VsCodeServer.start(options.server(world));
    try {
      options.onServer?.(server, world);
      const browser = await launchChromium();
      try {
        return await run({ world, server, page: browser.page });
      } finally {
        await browser.close();
      }
    } finally {
      await server.stop();
    }
  } finally {
    await world.dispose();
  }
}
