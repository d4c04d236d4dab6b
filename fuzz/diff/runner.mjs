// fuzz/diff/runner.mjs: the V8 side of the differential fuzzer; prints the same transcript as
// fuzz/diff/runner.c (see there). Usage: node runner.mjs FILE.wasm
import { readFileSync } from 'node:fs';

const buf = new DataView(new ArrayBuffer(8));
function val(type, v) {
  switch (type) {
    case 'i32': return ` i32:${v | 0}`;
    case 'i64': return ` i64:${BigInt.asIntN(64, BigInt(v))}`;
    case 'f32':
      if (Number.isNaN(v)) return ' f32:nan';
      buf.setFloat32(0, v, true);
      return ` f32:${buf.getUint32(0, true).toString(16).padStart(8, '0')}`;
    case 'f64':
      if (Number.isNaN(v)) return ' f64:nan';
      buf.setFloat64(0, v, true);
      return ` f64:${buf.getBigUint64(0, true).toString(16).padStart(16, '0')}`;
    default: return ` ref:${v === null ? 'null' : 'nonnull'}`;
  }
}
const out = [];
const log = (t) => (v) => { out.push(`log${val(t, v)}`); };
let module, instance;
try {
  module = new WebAssembly.Module(readFileSync(process.argv[2]));
} catch (e) {
  console.log('invalid'); console.error(String(e)); process.exit(2);
}
try {
  instance = new WebAssembly.Instance(module, {
    'fuzzing-support': { 'log-i32': log('i32'), 'log-i64': log('i64'), 'log-f32': log('f32'), 'log-f64': log('f64') },
  });
} catch (e) {
  console.log('uninstantiable'); console.error(String(e)); process.exit(2);
}
// Signatures come from the binary: parse the type, import and function sections (a small reader).
const sigs = readSigs(readFileSync(process.argv[2]));
for (const e of WebAssembly.Module.exports(module)) {
  if (e.kind !== 'function') continue;
  const sig = sigs.get(e.name);
  out.push(`call ${e.name}`);
  const args = sig.params.map((t) => (t === 'i64' ? 0n : t === 'externref' || t === 'funcref' ? null : 0));
  try {
    let r = instance.exports[e.name](...args);
    if (sig.results.length === 1) r = [r];
    else if (sig.results.length === 0) r = [];
    out.push('result' + sig.results.map((t, i) => val(t, r[i])).join(''));
  } catch (err) {
    out.push(err instanceof RangeError && /call stack/i.test(err.message) ? 'trap stack' : 'trap');
  }
}
console.log(out.join('\n'));

function readSigs(b) {
  let p = 8;
  const u = () => { let r = 0, s = 0, x; do { x = b[p++]; r |= (x & 0x7f) << s; s += 7; } while (x & 0x80); return r >>> 0; };
  const vt = (x) => ({ 0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64', 0x70: 'funcref', 0x6f: 'externref' })[x];
  const types = [], funcs = [], exports = new Map();
  while (p < b.length) {
    const id = b[p++], size = u(), end = p + size;
    if (id === 1) {
      for (let n = u(); n > 0; n--) {
        p++; // 0x60
        const params = []; for (let k = u(); k > 0; k--) params.push(vt(b[p++]));
        const results = []; for (let k = u(); k > 0; k--) results.push(vt(b[p++]));
        types.push({ params, results });
      }
    } else if (id === 2) {
      for (let n = u(); n > 0; n--) {
        for (let k = 0; k < 2; k++) { const l = u(); p += l; } // module, name
        const kind = b[p++];
        if (kind === 0) funcs.push(types[u()]);
        else if (kind === 1) { p++; const f = u(); u(); if (f & 1) u(); }
        else if (kind === 2) { const f = u(); u(); if (f & 1) u(); }
        else { p += 2; }
      }
    } else if (id === 3) {
      for (let n = u(); n > 0; n--) funcs.push(types[u()]);
    } else if (id === 7) {
      for (let n = u(); n > 0; n--) {
        const l = u(); const name = Buffer.from(b.subarray(p, p + l)).toString('utf8'); p += l;
        const kind = b[p++], idx = u();
        if (kind === 0) exports.set(name, funcs[idx]);
      }
    }
    p = end;
  }
  return exports;
}
