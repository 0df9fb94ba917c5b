// Regenerates the NSL-KDD samples from the full files (../../shared/datasets/nsl-kdd by default):
// a stratified, deterministic subset — per attack label, evenly spaced rows in file order, proportional to the
// label's share, with at least min(count, 3) rows for rare labels. Usage: node samples/make-samples.mjs [nsl-kdd dir]
import { readFileSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const source = process.argv[2] ?? join(here, '../../shared/datasets/nsl-kdd');

function stratified(file, target) {
  const lines = readFileSync(join(source, file), 'utf8').split('\n').filter((l) => l.length > 0);
  const byLabel = new Map();
  lines.forEach((l, i) => {
    const label = l.split(',')[41];
    if (!byLabel.has(label)) byLabel.set(label, []);
    byLabel.get(label).push(i);
  });
  const keep = [];
  for (const rows of byLabel.values()) {
    const n = Math.min(rows.length, Math.max(3, Math.round((rows.length * target) / lines.length)));
    for (let k = 0; k < n; k++) keep.push(rows[Math.floor((k * rows.length) / n)]);
  }
  keep.sort((a, b) => a - b);
  return keep.map((i) => lines[i]).join('\n') + '\n';
}

writeFileSync(join(here, 'nsl-kdd/KDDTrain+_sample.txt'), stratified('KDDTrain+.txt', 3000));
writeFileSync(join(here, 'nsl-kdd/KDDTest+_sample.txt'), stratified('KDDTest+.txt', 1500));
