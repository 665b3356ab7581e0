import { Show } from 'solid-js';
import { absoluteTime, relativeTime } from '../lib/format';
import { useNow } from './clock';

/** A time shown relative to now ("5 minutes ago"), exact on hover and to assistive tech via datetime. */
export function RelativeTime(props: { at: string | null; fallback?: string }) {
  const now = useNow();
  return (
    <Show when={props.at} fallback={<span class="muted">{props.fallback ?? '—'}</span>}>
      {(at) => (
        <time datetime={at()} title={absoluteTime(new Date(at()))}>
          {relativeTime(new Date(at()), now())}
        </time>
      )}
    </Show>
  );
}
