import { createEffect, onCleanup, onMount } from 'solid-js';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { type GradeFamily, gradeBands, MAX_SCORE } from '../lib/grades';

export interface ChartPoint {
  /** ISO time of the scan. */
  at: string;
  /** null: the scan could not grade the site (unreachable or error). */
  score: number | null;
  /** Finding IDs that appeared / disappeared compared with the scan before. */
  appeared: readonly string[];
  disappeared: readonly string[];
}

export interface PostureChartProps {
  points: readonly ChartPoint[];
  /** Visible time range, epoch ms. */
  from: number;
  to: number;
  /** Accessible name of the chart, e.g. "Score over the last 30 days". */
  label: string;
}

/** CSS custom properties are the one place colours live; the canvas reads them at draw time. */
function cssColor(element: Element, name: string): string {
  return getComputedStyle(element).getPropertyValue(name).trim() || '#888';
}

const BAND_LETTER: Record<GradeFamily, string> = { a: 'A', b: 'B', c: 'C', d: 'D', f: 'F' };

function drawGradeBands(u: uPlot): void {
  const { ctx, bbox } = u;
  ctx.save();
  ctx.font = `${Math.round(11 * devicePixelRatio)}px system-ui, sans-serif`;
  ctx.textBaseline = 'middle';
  for (const band of gradeBands()) {
    const top = u.valToPos(band.to, 'y', true);
    const bottom = u.valToPos(band.from, 'y', true);
    ctx.fillStyle = cssColor(u.root, `--band-${band.family}`);
    ctx.fillRect(bbox.left, top, bbox.width, bottom - top);
    ctx.fillStyle = cssColor(u.root, '--chart-axis');
    ctx.fillText(BAND_LETTER[band.family], bbox.left + 4 * devicePixelRatio, (top + bottom) / 2);
  }
  ctx.restore();
}

function triangle(ctx: CanvasRenderingContext2D, x: number, y: number, size: number, pointingUp: boolean) {
  const tip = pointingUp ? y - size : y + size;
  const base = pointingUp ? y + size * 0.6 : y - size * 0.6;
  ctx.beginPath();
  ctx.moveTo(x, tip);
  ctx.lineTo(x + size, base);
  ctx.lineTo(x - size, base);
  ctx.closePath();
  ctx.fill();
}

/** Marks scans where findings appeared (red, pointing up) or disappeared (green, pointing down). */
function drawChangeMarkers(u: uPlot, points: readonly ChartPoint[]): void {
  const { ctx } = u;
  const size = 5 * devicePixelRatio;
  const offset = 12 * devicePixelRatio;
  ctx.save();
  points.forEach((point, index) => {
    const time = u.data[0][index];
    if (time === undefined) return;
    const x = u.valToPos(time, 'x', true);
    const y = u.valToPos(point.score ?? 0, 'y', true);
    if (point.appeared.length > 0) {
      ctx.fillStyle = cssColor(u.root, '--sev-high');
      triangle(ctx, x, y - offset, size, true);
    }
    if (point.disappeared.length > 0) {
      ctx.fillStyle = cssColor(u.root, '--ok');
      triangle(ctx, x, y + offset, size, false);
    }
  });
  ctx.restore();
}

/** The x range in seconds, padded by 1.5% of the span each side. */
function visibleRange(props: Pick<PostureChartProps, 'from' | 'to'>): [number, number] {
  const pad = (props.to - props.from) * 0.015;
  return [(props.from - pad) / 1000, (props.to + pad) / 1000];
}

function chartOptions(host: HTMLElement, props: PostureChartProps, width: number): uPlot.Options {
  const axisColor = cssColor(host, '--chart-axis');
  const gridColor = cssColor(host, '--chart-grid');
  const lineColor = cssColor(host, '--chart-line');
  const axis = {
    stroke: axisColor,
    grid: { stroke: gridColor, width: 1 },
    ticks: { stroke: gridColor, width: 1 },
  };
  return {
    width,
    height: 240,
    scales: {
      // A little room on both sides so the newest point is not cut in half by the edge.
      x: { time: true, range: () => visibleRange(props) },
      y: { range: () => [0, MAX_SCORE] },
    },
    axes: [axis, { ...axis, size: 40, splits: () => [0, 25, 45, 65, 85, 100, MAX_SCORE] }],
    series: [
      {},
      {
        label: 'Score',
        stroke: lineColor,
        width: 2,
        spanGaps: false,
        points: { show: true, size: 6, fill: lineColor },
      },
    ],
    legend: { show: true, live: true },
    cursor: { drag: { x: false, y: false } },
    hooks: {
      drawClear: [drawGradeBands],
      draw: [(u) => drawChangeMarkers(u, props.points)],
    },
  };
}

/** Score over time on grade bands, with markers where findings came and went (uPlot, canvas). */
export function PostureChart(props: PostureChartProps) {
  let host!: HTMLDivElement;
  let chart: uPlot | undefined;

  const data = (): uPlot.AlignedData => [
    props.points.map((point) => Date.parse(point.at) / 1000),
    props.points.map((point) => point.score),
  ];

  const build = () => {
    chart?.destroy();
    chart = new uPlot(chartOptions(host, props, host.clientWidth || 600), data(), host);
  };

  onMount(() => {
    build();
    const resize = new ResizeObserver(() => chart?.setSize({ width: host.clientWidth, height: 240 }));
    resize.observe(host);
    // Canvas colours come from CSS variables: rebuild when the OS switches light/dark.
    const scheme = matchMedia('(prefers-color-scheme: dark)');
    scheme.addEventListener('change', build);
    onCleanup(() => {
      resize.disconnect();
      scheme.removeEventListener('change', build);
      chart?.destroy();
    });
  });

  createEffect(() => {
    const next = data();
    const [min, max] = visibleRange(props);
    if (chart) {
      chart.setData(next, false);
      chart.setScale('x', { min, max });
    }
  });

  return (
    <div
      ref={host}
      class="chart-box"
      role="img"
      aria-label={props.label}
      data-points={props.points.length}
      data-appeared={props.points.filter((point) => point.appeared.length > 0).length}
      data-disappeared={props.points.filter((point) => point.disappeared.length > 0).length}
    />
  );
}
