/**
 * The qm.toml language server's entry (out/server.js): `node out/server.js --stdio` (or
 * --node-ipc, --socket=<port>), as vscode-languageclient starts it. See README.md beside it.
 */
import { createConnection, ProposedFeatures } from 'vscode-languageserver/node';
import { startLanguageServer } from './language-server';

function main(): void {
  const connection = createConnection(ProposedFeatures.all);
  // A handler's stray rejection must not take the editor's server down with it.
  process.on('unhandledRejection', (reason) => connection.console.error(`Unhandled rejection: ${reason instanceof Error ? (reason.stack ?? reason.message) : String(reason)}`));
  startLanguageServer(connection);
  connection.listen();
}

main();
