#!/usr/bin/env node
// Tokenizes .pvspec files with the TextMate engine of VS Code (vscode-textmate, with the
// Oniguruma regular expressions of vscode-oniguruma) and the grammar of this extension.
//
// Takes: the paths of the files to tokenize (and, with --grammar PATH, another grammar).
// Hands on: one JSON document on stdout:
//   {"files": [{"path": ..., "tokens": [[line, start, end, text, [scope, ...]], ...]}]}
// with lines counted from 1, and start and end (exclusive) counted in characters (code
// points) from 0, as pvgen's lexer counts them. Exit status 2 on bad usage or input.
'use strict';

const fs = require('fs');
const path = require('path');
const vsctm = require('vscode-textmate');
const oniguruma = require('vscode-oniguruma');

const SCOPE = 'source.pvspec';

function usage(message) {
  process.stderr.write(`tokenize.js: ${message}\n`);
  process.stderr.write('usage: tokenize.js [--grammar GRAMMAR.json] FILE...\n');
  process.exit(2);
}

function parseArguments(argv) {
  let grammar = path.join(__dirname, '..', 'syntaxes', 'pvspec.tmLanguage.json');
  const files = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--grammar') {
      if (i + 1 >= argv.length) usage('--grammar needs a path');
      grammar = argv[++i];
    } else {
      files.push(argv[i]);
    }
  }
  if (files.length === 0) usage('no file given');
  return { grammar, files };
}

// Offsets of vscode-textmate are UTF-16 code units; these are the code point offsets.
function codePointOffsets(line) {
  const offsets = new Array(line.length + 1);
  let points = 0;
  for (let i = 0; i < line.length; i++) {
    offsets[i] = points;
    const unit = line.charCodeAt(i);
    const low = i + 1 < line.length ? line.charCodeAt(i + 1) : 0;
    if (unit >= 0xd800 && unit <= 0xdbff && low >= 0xdc00 && low <= 0xdfff) {
      offsets[i + 1] = points;
      i++;
    }
    points++;
  }
  offsets[line.length] = points;
  return offsets;
}

async function main() {
  const { grammar: grammarPath, files } = parseArguments(process.argv.slice(2));
  const wasm = fs.readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.length));
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
      createOnigString: (text) => new oniguruma.OnigString(text),
    }),
    loadGrammar: async (scopeName) => {
      if (scopeName !== SCOPE) return null;
      const text = fs.readFileSync(grammarPath, 'utf8');
      return vsctm.parseRawGrammar(text, grammarPath);
    },
  });
  const grammar = await registry.loadGrammar(SCOPE);
  if (grammar === null) usage(`${grammarPath} does not define ${SCOPE}`);

  const result = { files: [] };
  for (const file of files) {
    let text;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (error) {
      usage(`cannot read ${file}: ${error.message}`);
    }
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    const tokens = [];
    let stack = vsctm.INITIAL;
    text.split(/\r?\n/).forEach((line, index) => {
      const tokenized = grammar.tokenizeLine(line, stack);
      if (tokenized.stoppedEarly) {
        throw new Error(`${file}:${index + 1}: the tokenizer gave up on this line`);
      }
      const offsets = codePointOffsets(line);
      for (const token of tokenized.tokens) {
        const end = Math.min(token.endIndex, line.length);
        if (end <= token.startIndex) continue;
        tokens.push([
          index + 1,
          offsets[token.startIndex],
          offsets[end],
          line.slice(token.startIndex, end),
          token.scopes,
        ]);
      }
      stack = tokenized.ruleStack;
    });
    result.files.push({ path: file, tokens });
  }
  process.stdout.write(JSON.stringify(result) + '\n');
}

main().catch((error) => {
  process.stderr.write(`tokenize.js: ${error.stack || error}\n`);
  process.exit(1);
});
