// The pvspec extension: starts `pvgen lsp` over stdio for .pvspec files.
//
// Takes: the settings `pvspec.server.path` (the pvgen executable), `pvspec.server.args`
// (options before the command) and `pvspec.server.enable`.
// Hands on: a language client that VS Code asks for diagnostics, hovers, definitions,
// references, completion, symbols, formatting and code actions. Highlighting needs none of
// this: the grammar in syntaxes/ does it. Plain JavaScript, no build step.
'use strict';

const os = require('os');
const path = require('path');
const vscode = require('vscode');
const { LanguageClient } = require('vscode-languageclient/node');

const SECTION = 'pvspec';
let client;

// `${workspaceFolder}` and a leading `~` in the configured path, as users write them.
function expand(value) {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '';
  let result = value.split('${workspaceFolder}').join(folder);
  if (result === '~' || result.startsWith('~/')) result = path.join(os.homedir(), result.slice(1));
  return result;
}

function serverOptions(settings) {
  const command = expand(settings.get('server.path') || 'pvgen');
  const args = [...settings.get('server.args', []).map(expand), 'lsp'];
  const cwd = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  // No transport given: the server is spawned as is, speaking over stdin and stdout
  // (a `transport: stdio` would append a `--stdio` argument that pvgen does not take).
  return { command, args, options: cwd ? { cwd } : {} };
}

async function start() {
  const settings = vscode.workspace.getConfiguration(SECTION);
  if (!settings.get('server.enable', true)) return;
  const server = serverOptions(settings);
  client = new LanguageClient(
    SECTION,
    'pvgen language server',
    server,
    {
      documentSelector: [{ scheme: 'file', language: 'pvspec' }],
      synchronize: {
        // The specs of a workspace read each other (includes) and their configuration.
        fileEvents: vscode.workspace.createFileSystemWatcher(
          '**/{*.pvspec,pvgen.toml,pyproject.toml}'
        ),
      },
    }
  );
  try {
    await client.start();
  } catch (error) {
    client = undefined;
    const shown = [server.command, ...server.args].join(' ');
    vscode.window.showErrorMessage(
      `pvspec: could not start '${shown}' (${error.message || error}). ` +
        'Set "pvspec.server.path" to the pvgen executable.'
    );
  }
}

async function stop() {
  if (client === undefined) return;
  const running = client;
  client = undefined;
  await running.stop();
}

async function restart() {
  await stop();
  await start();
}

async function activate(context) {
  context.subscriptions.push(
    vscode.commands.registerCommand('pvspec.restartServer', restart),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration(`${SECTION}.server`)) restart();
    }),
    { dispose: () => stop() }
  );
  await start();
}

function deactivate() {
  return stop();
}

module.exports = { activate, deactivate };
