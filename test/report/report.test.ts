import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeReport } from '../../src/report/index.js';
import { reportFigures } from '../../src/report/charts.js';
import { renderSvg } from '../../src/report/render.js';
import { sampleRunResult } from './run-result-fixture.js';

const CHROMIUM = '/usr/bin/chromium';
// The one page global the contrast check uses, typed just enough (the project compiles without the DOM library).
declare function getComputedStyle(element: unknown): { color: string; backgroundColor: string };

describe('training report', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fs-report-'));
  const path = join(dir, 'report.html');
  const pngDir = join(dir, 'png');

  it('writes one self-contained page with every figure, the leaderboard and the dataset summary', async () => {
    const ids = await writeReport(sampleRunResult(), path, { png: pngDir });
    const html = readFileSync(path, 'utf8');
    for (const id of ['class-balance', 'roc-curves', 'pr-curves', 'cv-distribution', 'history-rf-accuracy', 'history-mlp-loss', 'history-mlp-accuracy', 'confusion-rf', 'confusion-mlp', 'feature-importances', 'threshold']) {
      assert.ok(ids.includes(id), `figure ${id} is produced`);
      assert.match(html, new RegExp(`data-chart="${id}"><svg`), `figure ${id} is inlined as SVG`);
    }
    assert.ok(!ids.includes('confusion-knn'), 'a failed candidate has no figures');
    assert.doesNotMatch(html, /<script|https?:\/\/(?!www\.w3\.org)/, 'no scripts and no external resources');
    assert.equal((html.match(/<tr class="(best)?">/g) ?? []).length, 3, 'one leaderboard row per candidate');
    assert.match(html, /too few rows/);
    assert.match(html, /num_outbound_cmds<\/td><td class="l">constant/);
    assert.match(html, /9033/, 'confusion counts are labelled');
    // per-class scores of the best model from its confusion matrix (rows true attack/normal: 9000 711 / 3800 9033),
    // by hand: attack precision 9000/12800, recall 9000/9711; normal precision 9033/9744, recall 9033/12833
    const perClass = /<h2>Per-class precision, recall and F1 on the test rows<\/h2><h3>rf<\/h3><table class="per-class">(.*?)<\/table>/.exec(html)?.[1] ?? '';
    assert.match(perClass, /<td class="l">attack<\/td><td>0\.7031<\/td><td>0\.9268<\/td><td>0\.7996<\/td><td>9711<\/td>/);
    assert.match(perClass, /<td class="l">normal<\/td><td>0\.9270<\/td><td>0\.7039<\/td><td>0\.8002<\/td><td>12833<\/td>/);
    assert.match(perClass, /<td class="l">macro avg<\/td><td>0\.8151<\/td><td>0\.8153<\/td><td>0\.7999<\/td><td>22544<\/td>/);
    assert.match(html, /<details><summary>mlp<\/summary><table class="per-class">/, 'the other models in folded tables');
  });

  it('draws the ROC legend entry of the chance line in the line\'s own grey, not in a candidate\'s palette colour', () => {
    const roc = reportFigures(sampleRunResult()).find((f) => f.id === 'roc-curves');
    assert.ok(roc);
    const svg = renderSvg(roc);
    // the legend icon (line and symbol) is drawn just before its label, at the same translate()
    const label = /<text[^>]*transform="(translate\([^)]*\))"[^>]*>chance<\/text>/.exec(svg);
    assert.ok(label, 'the chance line is in the legend');
    const icon = [...svg.matchAll(/<path [^>]*>/g)].map((m) => m[0]).filter((p) => p.includes(`transform="${label[1]}"`) && /stroke="/.test(p));
    assert.ok(icon.length >= 1, 'the legend icon is drawn');
    for (const p of icon) assert.match(p, /stroke="#999"/, p);
  });

  it('keeps x-axis names clear of the legend under them, and accuracy axes at or below 1', () => {
    const figures = reportFigures(sampleRunResult());
    // text centres as drawn: translate(x y) plus the y attribute
    const texts = (svg: string): { text: string; y: number; anchor: string }[] =>
      [...svg.matchAll(/<text ([^>]*)>([^<]*)<\/text>/g)].map((m) => {
        const t = /translate\(([-\d.]+) ([-\d.]+)\)/.exec(m[1]!);
        return { text: m[2]!, y: Number(/ y="([-\d.]+)"/.exec(m[1]!)?.[1] ?? 0) + Number(t?.[2] ?? 0), anchor: /text-anchor="(\w+)"/.exec(m[1]!)?.[1] ?? '' };
      });
    let checked = 0;
    for (const f of figures) {
      const option = f.option as { legend?: unknown; xAxis?: { name?: string }; series?: { name?: string }[] };
      if (!option.legend || !option.xAxis?.name) continue;
      const all = texts(renderSvg(f));
      const axis = all.find((t) => t.text === option.xAxis!.name);
      assert.ok(axis, `${f.id}: x-axis name drawn`);
      const legend = all.filter((t) => option.series!.some((se) => se.name === t.text));
      assert.ok(legend.length > 0, `${f.id}: legend drawn`);
      for (const l of legend) assert.ok(Math.abs(l.y - axis.y) >= 14, `${f.id}: axis name '${axis.text}' at y=${axis.y} overlaps legend '${l.text}' at y=${l.y}`);
      checked++;
    }
    assert.ok(checked >= 5, `${checked} figures with a legend under a named x axis`);
    for (const f of figures.filter((x) => /^history-.*-accuracy$/.test(x.id))) {
      const yLabels = texts(renderSvg(f)).filter((t) => t.anchor === 'end').map((t) => Number(t.text));
      assert.ok(yLabels.length >= 3 && yLabels.every((v) => v <= 1), `${f.id}: y-axis labels ${yLabels.join(', ')}`);
    }
  });

  it('exports every figure as a PNG', () => {
    const files = readdirSync(pngDir).sort();
    assert.ok(files.length >= 11);
    for (const f of files) {
      const head = readFileSync(join(pngDir, f)).subarray(0, 8);
      assert.deepEqual([...head], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], `${f} is a PNG`);
    }
  });

  it('opens in headless Chromium with every chart present and nothing failing to load', { skip: !existsSync(CHROMIUM) && 'no chromium' }, async () => {
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
      const failures: string[] = [];
      page.on('requestfailed', (r) => failures.push(r.url()));
      page.on('pageerror', (e) => failures.push(e.message));
      page.on('console', (m) => {
        if (m.type() === 'error') failures.push(m.text());
      });
      await page.goto(`file://${path}`);
      const charts = await page.$$eval('figure.chart svg', (svgs) => svgs.map((s) => s.getBoundingClientRect().width * s.getBoundingClientRect().height));
      assert.ok(charts.length >= 11, `${charts.length} charts rendered`);
      assert.ok(charts.every((area) => area > 10_000), 'every chart has a visible size');
      assert.deepEqual(failures, []);
      // Every piece of header text (title, run line, the model path in <code>) must stay readable on the dark header:
      // WCAG contrast ratio >= 4.5 between the text colour and its background composited over the header's.
      const contrasts = await page.$$eval('header, header *', (els) => {
        const rgba = (s: string): number[] => (s.match(/[\d.]+/g) ?? []).map(Number).concat([1]).slice(0, 4);
        const over = (fg: number[], bg: number[]): number[] => [0, 1, 2].map((i) => fg[i]! * fg[3]! + bg[i]! * (1 - fg[3]!));
        const lum = (c: number[]): number => {
          const [r, g, b] = c.map((v) => { const x = v / 255; return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4; });
          return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
        };
        const headerBg = rgba(getComputedStyle(els[0]!).backgroundColor);
        return els.filter((e) => [...e.childNodes].some((n) => n.nodeType === 3 && n.textContent!.trim() !== '')).map((e) => {
          const st = getComputedStyle(e);
          const bg = e === els[0] ? headerBg : over(rgba(st.backgroundColor), headerBg);
          const fg = over(rgba(st.color), bg);
          const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
          return { tag: e.tagName, text: e.textContent!.slice(0, 40), ratio: (hi! + 0.05) / (lo! + 0.05) };
        });
      });
      assert.ok(contrasts.some((c) => c.tag === 'CODE'), 'the model path is shown in the header');
      for (const c of contrasts) assert.ok(c.ratio >= 4.5, `header text <${c.tag}> "${c.text}" has contrast ${c.ratio.toFixed(2)}`);
      // legend labels as the browser draws them (its own sans-serif font) end before the next legend entry begins:
      // ECharts lays the legend out from estimated text widths
      const legendClashes = await page.$$eval('figure.chart svg', (svgs) =>
        svgs.flatMap((svg) => {
          const items = [...svg.querySelectorAll('path[ecmeta_ssr_type="legend"]')].map((hit) => {
            let label = hit.previousElementSibling;
            while (label && label.tagName !== 'text') label = label.previousElementSibling;
            return { hit: hit.getBoundingClientRect(), label: label!.getBoundingClientRect(), text: label!.textContent };
          });
          return items.slice(1).flatMap((next, k) => {
            const prev = items[k]!;
            const sameRow = Math.abs(prev.hit.top - next.hit.top) < 2 && next.hit.left > prev.hit.left;
            return sameRow && prev.label.right > next.hit.left ? [`${svg.parentElement!.id}: '${prev.text}' ends at ${prev.label.right.toFixed(1)}, '${next.text}' starts at ${next.hit.left.toFixed(1)}`] : [];
          });
        }),
      );
      assert.deepEqual(legendClashes, []);
      await page.screenshot({ path: join(dir, 'report.png'), fullPage: true });
    } finally {
      await browser.close();
    }
  });
});
