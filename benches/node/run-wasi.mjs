// Runs a WASI command module under V8 with node's built-in `node:wasi`, the
// way `cljit run` does: `node run-wasi.mjs FILE.wasm [ARGS...]`. The exit
// code is the program's. With BENCH_TIMINGS set it prints
// `node-timings: compile_us=N instantiate_us=N run_us=N` to stderr.
import { readFile } from 'node:fs/promises';
import { WASI } from 'node:wasi';
import process, { argv, env, stderr } from 'node:process';
import { basename } from 'node:path';

const [file, ...args] = argv.slice(2);
const t0 = performance.now();
const bytes = await readFile(file);
const module = await WebAssembly.compile(bytes);
const t1 = performance.now();
const wasi = new WASI({ version: 'preview1', args: [basename(file), ...args], env: {}, returnOnExit: true });
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
const t2 = performance.now();
const code = wasi.start(instance);
const t3 = performance.now();
if (env.BENCH_TIMINGS) {
  const us = (a, b) => Math.round((b - a) * 1000);
  stderr.write(`node-timings: compile_us=${us(t0, t1)} instantiate_us=${us(t1, t2)} run_us=${us(t2, t3)}\n`);
}
process.exitCode = code;
