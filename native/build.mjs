// Builds the optional recvmmsg receiver (native/udp_receiver.c) with node-gyp on Linux. A failure (no compiler, no
// Node headers, another OS) is reported in one line and is not an error: `collect` then receives through dgram.
//   node native/build.mjs            (run by `npm ci` / `npm install` through the package's install script)
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const skip = (reason) => {
  console.error(`flowsentry: native UDP receiver not built (${reason}); collect will receive through Node's dgram`);
  process.exit(0);
};
if (process.platform !== 'linux') skip(`recvmmsg is Linux-only, this is ${process.platform}`);
// node-gyp as npm runs it for install scripts, else the copy bundled with npm.
let gyp = process.env.npm_config_node_gyp;
if (!gyp || !existsSync(gyp)) {
  const npmDir = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm');
  try {
    gyp = createRequire(join(npmDir, 'package.json')).resolve('node-gyp/bin/node-gyp.js');
  } catch {
    skip('node-gyp not found');
  }
}
// The running Node's own headers when it ships them (e.g. /usr/include/node, or beside the binary of npm's
// node-<platform>-<arch> package, which the `node` package's bin/node runs), so nothing is downloaded.
const prefix = dirname(dirname(process.execPath));
const headerDirs = [prefix, join(prefix, 'node_modules', `node-${process.platform}-${process.arch}`)];
const nodedir = process.env.npm_config_nodedir ?? headerDirs.find((dir) => existsSync(join(dir, 'include', 'node', 'node_api.h')));
const args = [gyp, 'rebuild', '--loglevel=error', ...(nodedir ? [`--nodedir=${nodedir}`] : [])];
const r = spawnSync(process.execPath, args, { cwd: here, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
if (r.status !== 0) {
  const lines = (r.stderr ?? '').split('\n');
  const cause = lines.find((l) => /stack Error:|error:/.test(l)) ?? lines.find((l) => /ERR!/.test(l));
  skip(`node-gyp: ${cause?.replace(/^gyp ERR! (stack )?/, '').trim() ?? r.error?.message ?? `exit ${r.status}`}`);
}
console.error('flowsentry: native UDP receiver built (native/build/Release/udp_receiver.node)');
