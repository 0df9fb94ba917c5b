// Chart specifications of the training report: pure functions from a RunResult to ECharts options, one per figure.
// Rendering (SVG on the server, PNG export) lives in render.ts; page assembly in html.ts.

import type { CandidateResult, RunResult } from '../workflow/run-result.js';

/** A figure of the report: a stable id (also the PNG file name), a caption, and its ECharts option. */
export interface Figure {
  readonly id: string;
  readonly title: string;
  readonly option: Record<string, unknown>;
  readonly width?: number;
  readonly height?: number;
}

const axisName = (name: string): Record<string, unknown> => ({ name, nameLocation: 'middle', nameGap: 28 });
const base = (title: string): Record<string, unknown> => ({
  animation: false,
  title: { text: title, left: 'center', textStyle: { fontSize: 14 } },
  tooltip: { trigger: 'axis' },
  grid: { left: 60, right: 30, top: 50, bottom: 55 },
});
/**
 * Legend under the plot. ECharts places its entries from estimated text widths, narrower than browsers' and resvg's
 * sans-serif fonts draw them (a label ran 6 px into the next entry in Chromium): the wider gap absorbs the difference.
 */
const LEGEND = { bottom: 0, itemGap: 24 };
/** Plot area of a chart with an x-axis name and a legend under it: room for both, so they do not overlap. */
const GRID_WITH_LEGEND = { left: 60, right: 30, top: 50, bottom: 80 };
const slug = (s: string): string => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');

function usable(result: RunResult): CandidateResult[] {
  return result.candidates.filter((c) => c.error === null);
}

function curveFigure(result: RunResult, kind: 'roc' | 'pr'): Figure | undefined {
  const withCurve = usable(result).filter((c) => c[kind] !== null);
  if (withCurve.length === 0) return undefined;
  const series = withCurve.map((c) => {
    const curve = c[kind]!;
    return { name: `${c.name} (${kind === 'roc' ? 'AUC' : 'AP'} ${curve.auc.toFixed(3)})`, type: 'line', showSymbol: false, step: kind === 'pr' ? 'end' : undefined, data: curve.x.map((x, i) => [x, curve.y[i]]) };
  });
  if (kind === 'roc') series.push({ name: 'chance', type: 'line', showSymbol: false, step: undefined, data: [[0, 0], [1, 1]], lineStyle: { type: 'dashed', color: '#999' }, itemStyle: { color: '#999' } } as never);
  return {
    id: `${kind}-curves`,
    title: kind === 'roc' ? 'ROC curves (test set)' : 'Precision–recall curves (test set)',
    option: {
      ...base(kind === 'roc' ? 'ROC curves, all candidates' : 'Precision–recall curves, all candidates'),
      legend: { ...LEGEND, type: 'scroll' },
      grid: GRID_WITH_LEGEND,
      xAxis: { type: 'value', min: 0, max: 1, ...axisName(kind === 'roc' ? 'false-positive rate' : 'recall') },
      yAxis: { type: 'value', min: 0, max: 1, ...axisName(kind === 'roc' ? 'true-positive rate' : 'precision') },
      series,
    },
    // wider than the default: five candidates with their AUC and the chance line fit on one legend page
    width: 880,
    height: 420,
  };
}

function confusionFigures(result: RunResult): Figure[] {
  const classes = result.classes;
  return usable(result)
    .filter((c) => c.confusion !== null)
    .map((c) => {
      const m = c.confusion!;
      const data: [number, number, number, string][] = [];
      m.forEach((row, i) => {
        const total = row.reduce((s, v) => s + v, 0);
        row.forEach((v, j) => data.push([j, i, total > 0 ? v / total : 0, `${v}\n${total > 0 ? ((100 * v) / total).toFixed(1) : '0.0'}%`]));
      });
      const size = Math.max(320, Math.min(900, 120 + classes.length * 70));
      const heading = `Confusion matrix — ${c.name} (counts, row %)`;
      return {
        id: `confusion-${slug(c.name)}`,
        title: `Confusion matrix: ${c.name}`,
        option: {
          ...base(heading),
          tooltip: {},
          grid: { left: 120, right: 30, top: 50, bottom: 90 },
          xAxis: { type: 'category', data: classes, axisLabel: { rotate: classes.length > 4 ? 40 : 0 }, ...axisName('predicted'), nameGap: 60 },
          yAxis: { type: 'category', data: classes, inverse: true, ...axisName('true'), nameGap: 95 },
          visualMap: { min: 0, max: 1, dimension: 2, show: false, inRange: { color: ['#f3f6fc', '#2456c6'] } },
          series: [{ type: 'heatmap', data, label: { show: true, fontSize: classes.length > 8 ? 8 : 11, formatter: (p: { data: unknown[] }) => String(p.data[3]) } }],
        },
        // wide enough for the centred heading (~8 px a character at 14 px), which a small matrix would clip on both sides
        width: Math.max(size, 8 * heading.length + 40),
        height: size,
      };
    });
}

function historyFigures(result: RunResult): Figure[] {
  const figures: Figure[] = [];
  for (const c of usable(result)) {
    const h = c.history;
    if (!h) continue;
    const names = Object.keys(h.series);
    const groups: [string, string[]][] = [
      ['loss', names.filter((n) => n.includes('loss'))],
      ['accuracy', names.filter((n) => n.includes('accuracy') || n.includes('score'))],
    ];
    for (const [what, series] of groups) {
      if (series.length === 0) continue;
      const length = Math.max(...series.map((n) => h.series[n].length));
      figures.push({
        id: `history-${slug(c.name)}-${what}`,
        title: `${c.name}: ${what} per ${h.unit === 'trees' ? 'number of trees' : h.unit}`,
        option: {
          ...base(`${c.name} — ${what === 'loss' ? 'loss' : series.includes('oob_score') ? 'out-of-bag score' : 'accuracy'} ${h.unit === 'trees' ? 'by number of trees' : `per ${h.unit}`}`),
          legend: LEGEND,
          grid: GRID_WITH_LEGEND,
          // hideOverlap: 100 epochs' labels ran into each other ('97100')
          xAxis: { type: 'category', data: Array.from({ length }, (_, i) => i + 1), axisLabel: { hideOverlap: true }, ...axisName(h.unit === 'trees' ? 'number of trees' : h.unit) },
          // accuracy and OOB score never exceed 1: no axis label above it
          yAxis: { type: 'value', scale: true, ...(what === 'accuracy' ? { max: 1 } : {}), ...axisName(what), nameGap: 45 },
          series: series.map((n) => ({ name: n, type: 'line', showSymbol: false, data: h.series[n] })),
        },
      });
    }
  }
  return figures;
}

function cvFigure(result: RunResult): Figure | undefined {
  const withFolds = usable(result).filter((c) => (c.cv[result.metric]?.folds.length ?? 0) > 0);
  if (withFolds.length === 0) return undefined;
  const quartiles = (values: number[]): number[] => {
    const s = [...values].sort((a, b) => a - b);
    const q = (p: number): number => {
      const pos = p * (s.length - 1);
      const lo = Math.floor(pos);
      return s[lo] + (s[Math.min(s.length - 1, lo + 1)] - s[lo]) * (pos - lo);
    };
    return [s[0], q(0.25), q(0.5), q(0.75), s[s.length - 1]];
  };
  return {
    id: 'cv-distribution',
    title: `Cross-validation ${result.metric} per fold`,
    option: {
      ...base(`${result.cvFolds}-fold cross-validation: ${result.metric}`),
      tooltip: { trigger: 'item' },
      xAxis: { type: 'category', data: withFolds.map((c) => c.name) },
      yAxis: { type: 'value', scale: true, ...axisName(result.metric), nameGap: 45 },
      series: [
        { name: 'folds', type: 'boxplot', data: withFolds.map((c) => quartiles(c.cv[result.metric].folds)) },
        { name: 'fold score', type: 'scatter', symbolSize: 6, data: withFolds.flatMap((c, i) => c.cv[result.metric].folds.map((v) => [i, v])) },
      ],
    },
  };
}

function importanceFigure(result: RunResult): Figure | undefined {
  const best = result.candidates.find((c) => c.name === result.best && c.importances?.length);
  const source = best ?? usable(result).find((c) => c.importances?.length);
  if (!source?.importances) return undefined;
  const items = [...source.importances].slice(0, 20).reverse();
  return {
    id: 'feature-importances',
    title: `Feature importances: ${source.name}`,
    option: {
      ...base(`Global feature importances — ${source.name}`),
      grid: { left: 220, right: 30, top: 50, bottom: 40 },
      xAxis: { type: 'value' },
      yAxis: { type: 'category', data: items.map((i) => i.feature), axisLabel: { width: 200, overflow: 'truncate' } },
      series: [{ type: 'bar', data: items.map((i) => i.importance) }],
    },
    height: 120 + items.length * 22,
  };
}

function thresholdFigure(result: RunResult): Figure | undefined {
  const source = result.candidates.find((c) => c.name === result.best && c.thresholdCurve) ?? usable(result).find((c) => c.thresholdCurve);
  const t = source?.thresholdCurve;
  if (!source || !t) return undefined;
  const markLine = t.chosen === null ? undefined : { symbol: 'none', data: [{ xAxis: t.chosen, label: { formatter: 'chosen' } }], lineStyle: { color: '#c62828' } };
  return {
    id: 'threshold',
    title: `Threshold against false-positive rate and detection rate: ${source.name}`,
    option: {
      ...base(`${source.name}: FPR and detection rate by threshold`),
      legend: LEGEND,
      grid: GRID_WITH_LEGEND,
      xAxis: { type: 'value', scale: true, ...axisName('threshold') },
      yAxis: { type: 'value', min: 0, max: 1, ...axisName('rate'), nameGap: 40 },
      series: [
        { name: 'false-positive rate', type: 'line', showSymbol: false, data: t.thresholds.map((x, i) => [x, t.fpr[i]]), markLine },
        { name: 'detection rate', type: 'line', showSymbol: false, data: t.thresholds.map((x, i) => [x, t.detectionRate[i]]) },
      ],
    },
  };
}

function classBalanceFigure(result: RunResult): Figure {
  const d = result.dataset;
  return {
    id: 'class-balance',
    title: 'Class balance',
    option: {
      ...base('Class balance (rows per class)'),
      legend: LEGEND,
      grid: { left: 70, right: 30, top: 50, bottom: 90 },
      xAxis: { type: 'category', data: d.classes, axisLabel: { rotate: d.classes.length > 4 ? 35 : 0 } },
      yAxis: { type: 'log', ...axisName('rows (log scale)'), nameGap: 50 },
      series: [
        { name: 'train', type: 'bar', data: d.trainCounts.map((v) => Math.max(v, 0.9)) },
        { name: 'test', type: 'bar', data: d.testCounts.map((v) => Math.max(v, 0.9)) },
      ],
    },
  };
}

/** Every figure of the report, in page order; figures whose data is absent are left out. */
export function reportFigures(result: RunResult): Figure[] {
  return [
    classBalanceFigure(result),
    curveFigure(result, 'roc'),
    curveFigure(result, 'pr'),
    cvFigure(result),
    ...historyFigures(result),
    ...confusionFigures(result),
    importanceFigure(result),
    thresholdFigure(result),
  ].filter((f): f is Figure => f !== undefined);
}
