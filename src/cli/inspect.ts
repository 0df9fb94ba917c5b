// `flowsentry inspect <files...> [--format F] [--label COL] [--keep-identifiers] [--skip-bad-rows] [--json]`:
// what is in a dataset (format, rows, column types, label views, NaN/Inf, constant and duplicate columns and rows).

import type { Command } from 'commander';
import { runCommand, type GlobalOptions } from './command.js';
import { inspectFiles, type DatasetReport } from '../datasets/inspect.js';
import { createProgress } from '../util/progress.js';
import { assertNotModelFile } from '../store/model-file.js';

interface InspectOptions extends GlobalOptions {
  format?: string;
  label?: string;
  keepIdentifiers?: boolean;
  skipBadRows?: boolean;
}

export function register(program: Command): void {
  program
    .command('inspect')
    .description('describe datasets: format, rows, columns, labels, NaN/Inf, constant and duplicate columns and rows')
    .argument('<files...>', 'dataset files (.csv, .csv.gz, .txt, ISCX .xml, JSON lines .jsonl/.ndjson as extract and collect write); per-class/per-day CIC and ISCX files form one dataset')
    .option('--format <name>', 'nsl-kdd, kdd99, unsw-nb15, cic-ids2017, cse-cic-ids2018, iscx2012 or csv (default: detected)')
    .option('--label <column>', "label column (default: the format's own; in a CSV of no known format, the one column named label or class)")
    .option('--keep-identifiers', 'report identifier columns (flow ids, addresses, ports, timestamps) as features')
    .option('--skip-bad-rows', 'skip malformed rows (counted by reason) instead of stopping')
    .option('--json', 'print one JSON document')
    .action(async (files: string[], opts: InspectOptions, cmd: Command) => {
      const global = { ...cmd.optsWithGlobals<GlobalOptions>(), ...opts };
      await runCommand(global, () => inspect(files, opts), renderReports);
    });
}

async function inspect(files: string[], opts: InspectOptions): Promise<{ datasets: DatasetReport[] }> {
  for (const file of files) assertNotModelFile(file);
  const progress = createProgress('reading', 1, !opts.json && process.stderr.isTTY === true);
  try {
    const datasets = await inspectFiles(files, {
      format: opts.format,
      label: opts.label,
      keepIdentifiers: opts.keepIdentifiers,
      skipBadRows: opts.skipBadRows,
      onProgress: (done, total) => progress.update(done, total),
    });
    return { datasets };
  } finally {
    progress.stop();
  }
}

const fmt = (n: number): string => n.toLocaleString('en-US');

export function renderReports(result: { datasets: DatasetReport[] }): string {
  return result.datasets.map(renderReport).join('\n');
}

function renderReport(r: DatasetReport): string {
  const lines: string[] = [];
  const files = r.files.length === 1 ? r.files[0] : `${r.files.length} files (${r.files[0]} ...)`;
  lines.push(`${files}`);
  lines.push(`  format      ${r.format}${r.variant ? ` (${r.variant})` : ''}`);
  lines.push(`  rows        ${fmt(r.rows)}`);
  lines.push(`  columns     ${r.columns} in the file; features: ${r.featureTypes.numeric} numeric, ${r.featureTypes.categorical} categorical`);
  const byReason = new Map<string, string[]>();
  for (const d of r.dropped) byReason.set(d.reason, [...(byReason.get(d.reason) ?? []), d.name]);
  for (const [reason, names] of byReason) lines.push(`  not features (${reason}): ${names.join(', ')}`);
  if (r.labels) {
    for (const [view, counts] of Object.entries(r.labels)) {
      const shown = counts.slice(0, 12).map((c) => `${c.class} ${fmt(c.count)}`).join(', ');
      lines.push(`  labels/${view.padEnd(8)} ${counts.length} ${counts.length === 1 ? 'class' : 'classes'}: ${shown}${counts.length > 12 ? ', ...' : ''}`);
    }
  } else lines.push('  labels      none (name the label column with --label)');
  if (r.labelProblem) lines.push(`  warning     ${r.labelProblem}`);
  const nonFinite = r.columnReports.filter((c) => c.missing > 0 || c.posInf > 0 || c.negInf > 0);
  if (nonFinite.length === 0) lines.push('  NaN/Inf     none');
  else {
    lines.push('  NaN/Inf     column: NaN or empty / +Inf / -Inf');
    for (const c of nonFinite) lines.push(`    ${c.name}: ${fmt(c.missing)} / ${fmt(c.posInf)} / ${fmt(c.negInf)}`);
  }
  lines.push(`  constant columns   ${r.constantColumns.length ? r.constantColumns.join(', ') : 'none'}`);
  lines.push(`  duplicate columns  ${r.duplicateColumns.length ? r.duplicateColumns.map((g) => g.join(' = ')).join('; ') : 'none'}`);
  lines.push(`  duplicate rows     ${fmt(r.duplicateRows)} (same features and label); ${fmt(r.duplicateFeatureRows)} with the same features, ${fmt(r.conflictingRows)} of them with another label`);
  if (r.skipped.length) lines.push(`  skipped rows       ${r.skipped.map((s) => `${fmt(s.count)} ${s.reason}`).join(', ')}`);
  return lines.join('\n');
}
