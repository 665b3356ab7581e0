import { Show } from 'solid-js';
import type { Finding } from '../api';
import { CopyButton } from './CopyButton';
import { SeverityChip } from './SeverityCounts';

/** Where an inside-view (source audit) finding stands in the checkout. */
export interface SourcePlace {
  location: { file: string; line: number; column: number };
  excerpt: string;
}

export function sourcePlace(finding: Finding): SourcePlace | null {
  const place = finding as Finding & Partial<SourcePlace>;
  return place.location ? { location: place.location, excerpt: place.excerpt ?? '' } : null;
}

/** One finding as the catalogue and the scan describe it: what was seen, the Django mapping, the fix. */
export function FindingCard(props: { finding: Finding }) {
  const finding = () => props.finding;
  const place = () => sourcePlace(props.finding);
  return (
    <article class={`finding sev-border-${finding().severity}`} data-finding-id={finding().id}>
      <div class="row">
        <SeverityChip severity={finding().severity} />
        <h4>{finding().title}</h4>
      </div>
      <span class="finding-id">{finding().id}</span>
      <Show when={finding().detail}>
        <p>{finding().detail}</p>
      </Show>
      <dl>
        <Show when={place()}>
          {(where) => (
            <>
              <dt>In the source</dt>
              <dd>
                <code>
                  {where().location.file}:{where().location.line}:{where().location.column}
                </code>
                <Show when={where().excerpt}>
                  <pre class="code">
                    <code>{where().excerpt}</code>
                  </pre>
                </Show>
              </dd>
            </>
          )}
        </Show>
        <Show when={finding().evidence}>
          <dt>Seen</dt>
          <dd>
            <code>{finding().evidence}</code>
          </dd>
        </Show>
        <Show when={finding().django?.setting}>
          <dt>Django setting</dt>
          <dd>
            <code>{finding().django?.setting}</code>
          </dd>
        </Show>
        <Show when={finding().django?.checkId}>
          <dt>
            <code>check --deploy</code>
          </dt>
          <dd>
            <code>{finding().django?.checkId}</code>
          </dd>
        </Show>
      </dl>
      <div class="snippet">
        <div class="snippet-head">
          <span>Fix</span>
          <CopyButton text={finding().fix} label={`Copy the fix for ${finding().title}`} />
        </div>
        <pre class="code">
          <code>{finding().fix}</code>
        </pre>
      </div>
    </article>
  );
}
