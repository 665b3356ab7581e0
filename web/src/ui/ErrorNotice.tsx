import { Show } from 'solid-js';
import { describeError } from '../api';

/** A failed load or action, said plainly, with a retry when one makes sense. */
export function ErrorNotice(props: { error: unknown; onRetry?: () => void }) {
  return (
    <div class="notice error" role="alert">
      <span>{describeError(props.error)}</span>
      <Show when={props.onRetry}>
        {(retry) => (
          <>
            {' '}
            <button type="button" class="small" onClick={() => retry()()}>
              Try again
            </button>
          </>
        )}
      </Show>
    </div>
  );
}
