// Gives the JavaScript functions a release wasm imports names without random digits.
//
// wasm-bindgen names each of them after the Rust function and a 16-digit hash
// (`__wbg_new_bb74001155cb8ca8`), written once in the wasm's import section and once in the
// glue script (`headway.js`). About 200 of them: random digits that no compressor can shorten
// (4.6 KB of the dashboard after gzip -9). This renames them `__wbg_new_0000000000000001`,
// a counter of the same length, so no length in the wasm changes, in both files alike, then
// writes the two files' brotli copies again (scripts/site.sh writes every `.gz` copy after it). wasm-bindgen does the same for its own
// generic imports (`__wbindgen_generic_0000000000000007`).
//
//   node scripts/import-names.mjs target/site/pkg/headway.wasm target/site/pkg/headway.js
//
// Fails, changing nothing, where the two files do not name the same functions.

import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { brotliCompressSync, constants } from 'node:zlib';

const [wasmPath, jsPath] = process.argv.slice(2);
if (!wasmPath || !jsPath) {
  console.error('usage: node scripts/import-names.mjs <bundle.wasm> <glue.js>');
  process.exit(2);
}

// An imported function's name: `__wbg_`, the Rust name, `_`, 16 hex digits, and no more of a name.
const NAME = /__wbg_[A-Za-z0-9_]*?_[0-9a-f]{16}(?![A-Za-z0-9_])/g;

const wasm = readFileSync(wasmPath);
const js = readFileSync(jsPath, 'utf8');
// `latin1` maps each byte to one character and back, so the wasm's bytes survive the round trip.
const wasmText = wasm.toString('latin1');

const inJs = [...new Set(js.match(NAME) ?? [])];
const inWasm = new Set(wasmText.match(NAME) ?? []);
const missing = inJs.filter((n) => !inWasm.has(n));
const extra = [...inWasm].filter((n) => !inJs.includes(n));
if (inJs.length === 0 || missing.length > 0 || extra.length > 0) {
  console.error(
    `import-names: ${jsPath} and ${wasmPath} do not import the same functions ` +
      `(${inJs.length} in the script; only in the script: ${missing.slice(0, 3).join(', ') || 'none'}; ` +
      `only in the wasm: ${extra.slice(0, 3).join(', ') || 'none'})`,
  );
  process.exit(1);
}

const renamed = new Map(
  inJs.map((name, i) => [name, name.slice(0, -16) + (i + 1).toString(16).padStart(16, '0')]),
);
const rename = (text) => text.replace(NAME, (name) => renamed.get(name));

const outputs = [
  [wasmPath, Buffer.from(rename(wasmText), 'latin1')],
  [jsPath, Buffer.from(rename(js), 'utf8')],
];
if (outputs[0][1].length !== wasm.length) {
  console.error(`import-names: ${wasmPath} would change length; left as it is`);
  process.exit(1);
}

for (const [path, bytes] of outputs) {
  writeFileSync(path, bytes);
  if (existsSync(`${path}.br`)) {
    writeFileSync(
      `${path}.br`,
      brotliCompressSync(bytes, {
        params: {
          [constants.BROTLI_PARAM_QUALITY]: 11,
          [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
        },
      }),
    );
  }
}
console.log(`import-names: ${renamed.size} imported functions renamed in ${wasmPath} and ${jsPath}`);
