import { For, Show } from 'solid-js';
import { SEVERITIES, type Severity } from '../../../server/scan/types';

export type SeverityCountsValue = Record<Severity, number>;

/** Non-zero counts as coloured chips, worst first; "no findings" when all are zero. */
export function SeverityCounts(props: { counts: SeverityCountsValue | null }) {
  const present = () => SEVERITIES.filter((severity) => (props.counts?.[severity] ?? 0) > 0);
  return (
    <Show when={props.counts} fallback={<span class="muted">not scanned</span>}>
      <Show when={present().length > 0} fallback={<span class="sev zero">no findings</span>}>
        <ul class="sev-counts" aria-label="Findings by severity">
          <For each={present()}>
            {(severity) => (
              <li class={`sev sev-${severity}`}>
                {props.counts?.[severity]} {severity}
              </li>
            )}
          </For>
        </ul>
      </Show>
    </Show>
  );
}

export function SeverityChip(props: { severity: Severity }) {
  return <span class={`sev sev-${props.severity}`}>{props.severity}</span>;
}
