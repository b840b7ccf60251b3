#!/usr/bin/env node
// The CLI is written in TypeScript and compiled to dist/ by `npm run build` (the set-up runs it).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
const compiled = new URL('../../dist/harness/cli.js', import.meta.url);
if (!existsSync(fileURLToPath(compiled))) {
  console.error('bench: the compiled CLI is missing (dist/harness/cli.js).\n  Fix: run `npm run setup` (or `npm run build` if dependencies are installed).');
  process.exit(2);
}
await import(compiled.href);
