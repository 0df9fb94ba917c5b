// The training report: one self-contained HTML file (figures inlined as SVG, no scripts or CDN), and optionally every
// figure as PNG for papers and slides. Input: the RunResult documented in src/workflow/run-result.ts.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { RunResult } from '../workflow/run-result.js';
import { writeFileAtomic } from '../store/model-file.js';
import { OutputError } from '../util/output.js';
import { reportFigures } from './charts.js';
import { reportHtml } from './html.js';
import { renderSvg, svgToPng } from './render.js';

export interface ReportOptions {
  /** Also export every chart as PNG into this folder. */
  png?: string;
}

/** Writes the report; returns the ids of the figures it holds. */
export async function writeReport(result: RunResult, path: string, options: ReportOptions = {}): Promise<string[]> {
  const figures = reportFigures(result).map((figure) => ({ figure, svg: renderSvg(figure) }));
  writeFileAtomic(path, reportHtml(result, figures));
  if (options.png) {
    try {
      mkdirSync(options.png, { recursive: true });
    } catch (err) {
      throw new OutputError(options.png, err, 'no chart was exported');
    }
    // Each PNG is written whole or not at all (writeFileAtomic); a failure says how many charts came before it.
    figures.forEach(({ figure, svg }, i) => {
      try {
        writeFileAtomic(join(options.png!, `${figure.id}.png`), svgToPng(svg));
      } catch (err) {
        if (err instanceof OutputError) throw new OutputError(join(options.png!, `${figure.id}.png`), err.cause, `${i} of ${figures.length} charts were exported before it`);
        throw err;
      }
    });
  }
  return figures.map((f) => f.figure.id);
}
