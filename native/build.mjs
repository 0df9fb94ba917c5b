// Builds the optional native addons with node-gyp on Linux, each on its own and reported in one line: the recvmmsg
// receiver (native/udp_receiver.c), the k-NN search (native/neighbors.c) and the loader's malloc mmap threshold
// (native/malloc_policy.c). A failure (no compiler, no Node headers, another OS) is not an error: `collect` then
// receives through dgram, neighbour searches run in JavaScript and WebAssembly, and loads keep malloc's defaults.
//   node native/build.mjs            (run by `npm ci` / `npm install` through the package's install script)
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const targets = [
  { name: 'udp_receiver', built: 'native UDP receiver built', fallback: 'native UDP receiver not built', then: "collect will receive through Node's dgram" },
  { name: 'neighbors', built: 'native k-NN search built', fallback: 'native k-NN search not built', then: 'neighbour searches run in JavaScript and WebAssembly' },
  { name: 'malloc_policy', built: 'native malloc policy built', fallback: 'native malloc policy not built', then: "loads keep glibc's default mmap threshold" },
];
const skipAll = (reason) => {
  for (const t of targets) console.error(`flowsentry: ${t.fallback} (${reason}); ${t.then}`);
  process.exit(0);
};
if (process.platform !== 'linux') skipAll(`Linux-only, this is ${process.platform}`);
// node-gyp as npm runs it for install scripts, else the copy bundled with npm.
let gyp = process.env.npm_config_node_gyp;
if (!gyp || !existsSync(gyp)) {
  const npmDir = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm');
  try {
    gyp = createRequire(join(npmDir, 'package.json')).resolve('node-gyp/bin/node-gyp.js');
  } catch {
    skipAll('node-gyp not found');
  }
}
// The running Node's own headers when it ships them (e.g. /usr/include/node, or beside the binary of npm's
// node-<platform>-<arch> package, which the `node` package's bin/node runs), so nothing is downloaded.
const prefix = dirname(dirname(process.execPath));
const headerDirs = [prefix, join(prefix, 'node_modules', `node-${process.platform}-${process.arch}`)];
const nodedir = process.env.npm_config_nodedir ?? headerDirs.find((dir) => existsSync(join(dir, 'include', 'node', 'node_api.h')));
const cause = (r) => {
  const lines = (r.stderr ?? '').split('\n');
  const line = lines.find((l) => /stack Error:|error:/.test(l)) ?? lines.find((l) => /ERR!/.test(l));
  return line?.replace(/^gyp ERR! (stack )?/, '').trim() ?? r.error?.message ?? `exit ${r.status}`;
};
const run = (args) => spawnSync(process.execPath, [gyp, ...args, '--loglevel=error', ...(nodedir ? [`--nodedir=${nodedir}`] : [])], { cwd: here, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
const configured = run(['clean', 'configure']);
if (configured.status !== 0) skipAll(`node-gyp: ${cause(configured)}`);
// One make target at a time, so that one failing leaves the others built.
for (const t of targets) {
  const r = spawnSync('make', ['-C', 'build', 'BUILDTYPE=Release', t.name], { cwd: here, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.status === 0) console.error(`flowsentry: ${t.built} (native/build/Release/${t.name}.node)`);
  else console.error(`flowsentry: ${t.fallback} (${r.error ? `make: ${r.error.message}` : `compiler: ${cause(r)}`}); ${t.then}`);
}
