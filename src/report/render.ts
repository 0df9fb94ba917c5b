// Renders ECharts options to SVG on the server (no DOM, no browser) and SVG to PNG with resvg.

import * as echarts from 'echarts';
import { Resvg } from '@resvg/resvg-js';
import type { Figure } from './charts.js';

export const DEFAULT_WIDTH = 720;
export const DEFAULT_HEIGHT = 380;

export function renderSvg(figure: Figure): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width: figure.width ?? DEFAULT_WIDTH, height: figure.height ?? DEFAULT_HEIGHT });
  try {
    chart.setOption({ backgroundColor: '#ffffff', ...figure.option });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

/** PNG at 2× for print. */
export function svgToPng(svg: string): Buffer {
  return Buffer.from(new Resvg(svg, { fitTo: { mode: 'zoom', value: 2 }, background: '#ffffff' }).render().asPng());
}
