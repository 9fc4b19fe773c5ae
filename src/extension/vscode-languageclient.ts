// vscode-languageclient in a bundle of its own (out/vscode-languageclient.js, over half of what the
// extension would otherwise parse before showing anything): language-client.ts requires it at run
// time, when it starts the client. Only what that file uses.
export { LanguageClient, ResponseError, TransportKind } from 'vscode-languageclient/node';
