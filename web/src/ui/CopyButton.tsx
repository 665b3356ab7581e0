import { createSignal, onCleanup } from 'solid-js';

/** Copies text to the clipboard and says so (politely, for screen readers too). */
export function CopyButton(props: { text: string; label: string }) {
  const [status, setStatus] = createSignal<'idle' | 'copied' | 'failed'>('idle');
  let reset: ReturnType<typeof setTimeout> | undefined;
  onCleanup(() => clearTimeout(reset));

  const copy = async () => {
    try {
      await navigator.clipboard.writeText(props.text);
      setStatus('copied');
    } catch {
      setStatus('failed');
    }
    clearTimeout(reset);
    reset = setTimeout(() => setStatus('idle'), 2000);
  };

  return (
    <button type="button" class="small" onClick={copy} aria-label={props.label}>
      <span aria-live="polite">
        {status() === 'copied' ? 'Copied' : status() === 'failed' ? 'Copy failed' : 'Copy'}
      </span>
    </button>
  );
}
