// Installs npm dependencies on a fresh clone (or when package-lock.json changed), so the README's two
// Quick-start commands work with nothing but Node and npm.
import { existsSync, lstatSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const marker = 'node_modules/.package-lock.json';
const stale = !existsSync(marker) || statSync(marker).mtimeMs < statSync('package-lock.json').mtimeMs;
// A linked node_modules belongs to another checkout: npm ci would empty it there. Use it as it is.
const linked = existsSync('node_modules') && lstatSync('node_modules').isSymbolicLink();
if (stale && linked && existsSync(marker)) {
  console.error('flowsentry: node_modules is a link to another checkout; using its dependencies as they are (no npm ci)');
} else if (stale) {
  console.error('flowsentry: installing dependencies (npm ci)...');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const r = spawnSync(npm, ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
