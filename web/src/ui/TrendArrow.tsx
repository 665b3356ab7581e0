import { Show } from 'solid-js';

export interface Trend {
  delta: number;
  direction: 'up' | 'down' | 'flat';
}

const ARROW = { up: '▲', down: '▼', flat: '▬' } as const;
const CLASS = { up: 'better', down: 'worse', flat: 'same' } as const;

/** Score change over the trend window: ▲ better, ▼ worse, with the points it moved. */
export function TrendArrow(props: { trend: Trend | null; days: number }) {
  const label = (trend: Trend) =>
    trend.direction === 'flat'
      ? `Score unchanged over ${props.days} days`
      : `Score ${trend.direction === 'up' ? 'up' : 'down'} ${Math.abs(trend.delta)} points over ${props.days} days`;
  return (
    <Show
      when={props.trend}
      fallback={
        <span class="muted" title="Not enough history yet">
          —
        </span>
      }
    >
      {(trend) => (
        <span class={`trend ${CLASS[trend().direction]}`} title={label(trend())}>
          <span aria-hidden="true">{ARROW[trend().direction]}</span>
          <span class="visually-hidden">{label(trend())}</span>
          <Show when={trend().delta !== 0}>
            <span aria-hidden="true"> {Math.abs(trend().delta)}</span>
          </Show>
        </span>
      )}
    </Show>
  );
}
