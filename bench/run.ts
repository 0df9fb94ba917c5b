// `npm run bench -- <name> [args...]` runs bench/<name>.ts, which exports `run(args)`.
// Benchmarks compare against the real peer in the same run; install peers with `scripts/install-tools.sh bench`.

import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith('.js') && f !== 'run.js')
  .map((f) => f.slice(0, -3));
const [name, ...args] = process.argv.slice(2);
if (!name || !available.includes(name)) {
  console.error(`usage: npm run bench -- <${available.join('|')}> [args...]`);
  process.exit(2);
}
const mod = (await import(`./${name}.js`)) as { run: (args: string[]) => Promise<void> };
await mod.run(args);
