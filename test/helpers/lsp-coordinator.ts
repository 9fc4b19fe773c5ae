import type { CoordinatorHost } from '../../src/core/coordinator/host';
import type { ClientBackend, ServerNotifier } from './lsp-client';

export interface BackendCalls {
  resolve: number;
  listRemote: number;
  listInstalled: number;
  install: number;
}

/**
 * The extension's side of the language server's requests, as a test double: each qm/server/*
 * request goes to a real coordinator (through the host, leader or client of another process's
 * leader), and every job's progress the host hears is passed on to the server.
 */
export function coordinatorBackend(host: CoordinatorHost): ClientBackend & { calls: BackendCalls } {
  const calls: BackendCalls = { resolve: 0, listRemote: 0, listInstalled: 0, install: 0 };
  return {
    calls,
    resolve: ({ tools }) => {
      calls.resolve++;
      return host.api.resolve(tools);
    },
    listRemote: ({ tool }) => {
      calls.listRemote++;
      return host.api.listRemote(tool);
    },
    listInstalled: () => {
      calls.listInstalled++;
      return host.api.listInstalled();
    },
    install: (params) => {
      calls.install++;
      return host.install(params);
    },
    attach: (server: ServerNotifier) => host.onProgress((progress) => server.progress(progress)),
  };
}
