// Renders the compute chart: Lambda GB-s per lifecycle action against command
// duration, one line per design, log scales. Vega-Lite draws it as SVG and
// resvg turns the SVG into a PNG, with no browser and no network.
import * as fs from 'fs';
import { Resvg } from '@resvg/resvg-js';

export interface ComputePoint {
  readonly design: string;
  readonly commandSeconds: number;
  readonly gbSeconds: number;
}

// vega and vega-lite are ES modules with top-level await: load them with a real
// dynamic import, which the CommonJS output of TypeScript would otherwise rewrite.
const importEsm = new Function('specifier', 'return import(specifier)') as (s: string) => Promise<any>;

export async function renderComputeChart(points: ComputePoint[], pngPath: string): Promise<void> {
  const vegaLite = await importEsm('vega-lite');
  const vega = await importEsm('vega');
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: 640,
    height: 360,
    background: 'white',
    title: 'Lambda compute per lifecycle action',
    data: { values: points },
    mark: { type: 'line', point: true },
    encoding: {
      x: {
        field: 'commandSeconds',
        type: 'quantitative',
        scale: { type: 'log' },
        title: 'command duration (s)',
        axis: { values: [5, 60, 300, 1200, 5400] },
      },
      y: { field: 'gbSeconds', type: 'quantitative', scale: { type: 'log' }, title: 'Lambda GB-s per action' },
      color: { field: 'design', type: 'nominal', title: 'design', legend: { labelLimit: 280 } },
    },
  };
  const compiled = vegaLite.compile(spec as any).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  const svg: string = await view.toSVG();
  view.finalize();
  const png = new Resvg(svg, { font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' }, background: 'white' })
    .render()
    .asPng();
  fs.writeFileSync(pngPath, png);
}
