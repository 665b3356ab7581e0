import { Show } from 'solid-js';
import { MAX_SCORE } from '../lib/grades';

export interface SparkPoint {
  at: string;
  score: number;
}

const WIDTH = 120;
const HEIGHT = 28;
const PAD = 2;

/** Score over time as a tiny SVG line; x by time so gaps in scanning show as gaps in spacing. */
export function Sparkline(props: { points: readonly SparkPoint[] }) {
  const coordinates = () => {
    const points = props.points;
    if (points.length === 0) return [];
    const times = points.map((point) => Date.parse(point.at));
    const first = Math.min(...times);
    const span = Math.max(...times) - first || 1;
    return points.map((point, index) => ({
      x:
        points.length === 1
          ? WIDTH / 2
          : PAD + (((times[index] ?? first) - first) / span) * (WIDTH - 2 * PAD),
      y: PAD + (1 - Math.min(point.score, MAX_SCORE) / MAX_SCORE) * (HEIGHT - 2 * PAD),
    }));
  };
  const label = () => {
    const points = props.points;
    if (points.length === 0) return 'No score history yet';
    return `Score over the last 30 days: from ${points[0]?.score} to ${points.at(-1)?.score}`;
  };
  return (
    <svg
      class="sparkline"
      width={WIDTH}
      height={HEIGHT}
      viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
      role="img"
      aria-label={label()}
    >
      <Show when={coordinates().length > 0}>
        <polyline
          points={coordinates()
            .map(({ x, y }) => `${x.toFixed(1)},${y.toFixed(1)}`)
            .join(' ')}
        />
        <circle cx={coordinates().at(-1)?.x} cy={coordinates().at(-1)?.y} r="2.5" />
      </Show>
    </svg>
  );
}
