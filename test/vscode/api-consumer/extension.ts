/**
 * A second extension, loaded beside Quartermaster in the integration tests (test/vscode), that
 * uses Quartermaster's API only through what activate() returns and the types of
 * src/extension/public-api.ts, as any other extension would:
 *
 * - the command qmApiConsumer.runNode acquires the folder's node, holds it, runs `node --version`
 *   from it with the toolchain's PATH and variables, and returns what it ran and what it printed;
 * - it records every onDidChangeToolchains event (activate's `events()`);
 * - the debug type "qm-env-probe" is an in-process debug adapter that records the configuration it
 *   is launched with (after every configuration provider, Quartermaster's included) and ends.
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as vscode from 'vscode';
import type { AcquiredToolchain, QuartermasterToolchainsApi, ToolchainsChangeEvent } from '../../../src/extension/public-api';

const ID = 'quartermaster-test.qm-api-consumer';

export interface ConsumerExports {
  api: QuartermasterToolchainsApi;
  events(): ToolchainsChangeEvent[];
  /** The configurations "qm-env-probe" sessions were launched with, oldest first. */
  launched(): vscode.DebugConfiguration[];
}

export interface RunNodeResult {
  toolchain: AcquiredToolchain;
  printed: string;
}

export async function activate(context: vscode.ExtensionContext): Promise<ConsumerExports> {
  const extension = vscode.extensions.getExtension<QuartermasterToolchainsApi>('quartermaster.quartermaster');
  if (!extension) throw new Error('Quartermaster is not installed');
  const api = await extension.activate();
  if (api.apiVersion !== 1) throw new Error(`Quartermaster API version ${String(api.apiVersion)}; this extension knows 1`);
  const events: ToolchainsChangeEvent[] = [];
  const launched: vscode.DebugConfiguration[] = [];
  context.subscriptions.push(
    api.onDidChangeToolchains((event) => events.push(event)),
    vscode.commands.registerCommand('qmApiConsumer.runNode', async (folder?: vscode.Uri): Promise<RunNodeResult> => {
      const toolchain = await api.acquire({ tool: 'node', requestingExtensionId: ID, ...(folder ? { uri: folder } : {}) });
      const lease = await api.hold(toolchain, `${ID}: node --version`);
      try {
        const node = path.join(toolchain.binPaths[0] ?? '', 'node');
        const { stdout } = await promisify(execFile)(node, ['--version'], { env: { ...process.env, ...toolchain.env, PATH: toolchain.path } });
        return { toolchain, printed: stdout.trim() };
      } finally {
        lease.dispose();
      }
    }),
    vscode.debug.registerDebugAdapterDescriptorFactory('qm-env-probe', {
      createDebugAdapterDescriptor: (session) => {
        launched.push(session.configuration);
        return new vscode.DebugAdapterInlineImplementation(new ProbeAdapter());
      },
    }),
  );
  return { api, events: () => [...events], launched: () => [...launched] };
}

/** Just enough of the Debug Adapter Protocol to start and end a session at once. */
class ProbeAdapter implements vscode.DebugAdapter {
  private readonly sent = new vscode.EventEmitter<vscode.DebugProtocolMessage>();
  readonly onDidSendMessage = this.sent.event;
  private seq = 1;

  handleMessage(message: vscode.DebugProtocolMessage): void {
    const request = message as { type?: string; seq?: number; command?: string };
    if (request.type !== 'request') return;
    this.send({ type: 'response', request_seq: request.seq, success: true, command: request.command, body: request.command === 'initialize' ? {} : undefined });
    if (request.command === 'initialize') this.send({ type: 'event', event: 'initialized' });
    if (request.command === 'launch') this.send({ type: 'event', event: 'terminated' });
  }

  dispose(): void {
    this.sent.dispose();
  }

  private send(message: Record<string, unknown>): void {
    this.sent.fire({ ...message, seq: this.seq++ });
  }
}
