import { For, Show } from 'solid-js';
import { SEVERITIES } from '../../../server/scan/types';
import type { Finding } from '../api';
import { FindingCard } from './FindingCard';
import { SeverityChip } from './SeverityCounts';

/** Findings grouped under a heading per severity, worst first; empty severities are left out. */
export function FindingsBySeverity(props: { findings: readonly Finding[] }) {
  const groups = () =>
    SEVERITIES.map((severity) => ({
      severity,
      findings: props.findings.filter((finding) => finding.severity === severity),
    })).filter((group) => group.findings.length > 0);
  return (
    <Show when={groups().length > 0} fallback={<p>No findings: this site passes every check.</p>}>
      <For each={groups()}>
        {(group) => (
          <section class="severity-group" aria-label={`${group.severity} findings`}>
            <h3>
              <SeverityChip severity={group.severity} />
              <span>
                {group.findings.length} {group.severity}
              </span>
            </h3>
            <For each={group.findings}>{(finding) => <FindingCard finding={finding} />}</For>
          </section>
        )}
      </For>
    </Show>
  );
}
