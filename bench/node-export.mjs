// Instantiates an import-free module on node's V8 and calls one export with no arguments; prints
// the result as 8 hex digits (i32). Usage: node node-export.mjs FILE.wasm [EXPORT (default bench)]
import { readFileSync } from 'node:fs';

const module = new WebAssembly.Module(readFileSync(process.argv[2]));
const instance = new WebAssembly.Instance(module, {});
const r = instance.exports[process.argv[3] || 'bench']();
console.log((r >>> 0).toString(16).padStart(8, '0'));
