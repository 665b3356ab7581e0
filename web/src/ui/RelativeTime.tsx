import { Show } from 'solid-js';
import { absoluteTime, relativeTime } from '../lib/format';
import { useNow } from './clock';

/** A time shown relative to now ("5 minutes ago"), exact on hover and to assistive tech via datetime. */
export function RelativeTime(props: { at: string | null; fallback?: string }) {
  const now = useNow();
  // The shared clock ticks every 30 s; a time that just arrived from the server is measured against the real now.
  const freshNow = () => new Date(Math.max(now().getTime(), Date.now()));
  return (
    <Show when={props.at} fallback={<span class="muted">{props.fallback ?? '—'}</span>}>
      {(at) => (
        <time datetime={at()} title={absoluteTime(new Date(at()))}>
          {relativeTime(new Date(at()), freshNow())}
        </time>
      )}
    </Show>
  );
}
