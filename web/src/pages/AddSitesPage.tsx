import { A } from '@solidjs/router';
import { createResource, createSignal, For, Match, Show, Switch } from 'solid-js';
import { createStore } from 'solid-js/store';
import { ApiError, api, describeError, unwrap } from '../api';
import { formatInterval, plural, splitTagInput } from '../lib/format';
import { paths } from '../paths';

const INTERVAL_CHOICES = [15, 30, 60, 360, 720, 1440, 10080];

type Field = 'host' | 'label' | 'tags' | 'intervalMinutes';
type FieldErrors = Partial<Record<Field, string>>;

interface Added {
  id: number;
  host: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** The server's validation issues (`details.issues[].path` like "tags.0"), by form field. */
function fieldErrors(error: ApiError): FieldErrors {
  if (error.code === 'invalid_target' || error.code === 'conflict') return { host: error.message };
  const issues = isRecord(error.details) && Array.isArray(error.details.issues) ? error.details.issues : [];
  const errors: FieldErrors = {};
  for (const issue of issues) {
    if (!isRecord(issue) || typeof issue.path !== 'string' || typeof issue.message !== 'string') continue;
    const field = issue.path.split('.')[0] as Field;
    if (['host', 'label', 'tags', 'intervalMinutes'].includes(field)) errors[field] ??= issue.message;
  }
  return errors;
}

function conflictSiteId(error: unknown): number | null {
  if (!(error instanceof ApiError) || error.code !== 'conflict' || !isRecord(error.details)) return null;
  return typeof error.details.siteId === 'number' ? error.details.siteId : null;
}

function OneSiteForm() {
  const [settings] = createResource(() => unwrap(api.api.settings.$get()));
  const [errors, setErrors] = createSignal<FieldErrors>({});
  const [formError, setFormError] = createSignal<string | null>(null);
  const [existingId, setExistingId] = createSignal<number | null>(null);
  const [saving, setSaving] = createSignal(false);
  const [added, setAdded] = createStore<Added[]>([]);
  let hostInput!: HTMLInputElement;

  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    const host = String(data.get('host') ?? '').trim();
    setFormError(null);
    setExistingId(null);
    if (!host) {
      setErrors({ host: 'Enter a host name, e.g. shop.example.com' });
      hostInput.focus();
      return;
    }
    const interval = String(data.get('interval') ?? '');
    const body: { host: string; label: string; tags: string[]; intervalMinutes?: number } = {
      host,
      label: String(data.get('label') ?? '').trim(),
      tags: splitTagInput(String(data.get('tags') ?? '')),
    };
    if (interval) body.intervalMinutes = Number(interval);
    setSaving(true);
    try {
      const site = await unwrap(api.api.sites.$post({ json: body }));
      setErrors({});
      setAdded(added.length, { id: site.id, host: site.host });
      form.reset();
      hostInput.focus();
    } catch (error) {
      if (error instanceof ApiError) {
        const byField = fieldErrors(error);
        setErrors(byField);
        setExistingId(conflictSiteId(error));
        if (Object.keys(byField).length === 0) setFormError(error.message);
        else form.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
      } else setFormError(describeError(error));
    } finally {
      setSaving(false);
    }
  };

  const describedBy = (field: Field, hint?: string) =>
    [hint, errors()[field] ? `${field}-error` : undefined].filter(Boolean).join(' ') || undefined;

  return (
    <section class="card" aria-labelledby="one-heading">
      <h2 id="one-heading">Add one site</h2>
      <form onSubmit={submit} novalidate>
        <div class="form-grid">
          <div class="field">
            <label for="host">Host</label>
            <input
              id="host"
              name="host"
              ref={hostInput}
              autocomplete="off"
              spellcheck={false}
              inputmode="url"
              placeholder="shop.example.com"
              aria-invalid={errors().host ? 'true' : undefined}
              aria-describedby={describedBy('host', 'host-hint')}
              onInput={() => setErrors(({ host: _host, ...rest }) => rest)}
            />
            <span id="host-hint" class="hint">
              A name, host:port, or an https:// URL
            </span>
            <Show when={errors().host}>
              <span id="host-error" class="error">
                {errors().host}
                <Show when={existingId()}>
                  {(id) => (
                    <>
                      {' '}
                      <A href={paths.site(id())}>Open it</A>
                    </>
                  )}
                </Show>
              </span>
            </Show>
          </div>
          <div class="field">
            <label for="label">Label</label>
            <input
              id="label"
              name="label"
              placeholder="Shop (production)"
              aria-invalid={errors().label ? 'true' : undefined}
              aria-describedby={describedBy('label')}
            />
            <Show when={errors().label}>
              <span id="label-error" class="error">
                {errors().label}
              </span>
            </Show>
          </div>
          <div class="field">
            <label for="tags">Tags</label>
            <input
              id="tags"
              name="tags"
              placeholder="prod, eu"
              aria-invalid={errors().tags ? 'true' : undefined}
              aria-describedby={describedBy('tags', 'tags-hint')}
            />
            <span id="tags-hint" class="hint">
              Separated by commas or spaces
            </span>
            <Show when={errors().tags}>
              <span id="tags-error" class="error">
                {errors().tags}
              </span>
            </Show>
          </div>
          <div class="field">
            <label for="interval">Scan every</label>
            <select
              id="interval"
              name="interval"
              aria-invalid={errors().intervalMinutes ? 'true' : undefined}
              aria-describedby={describedBy('intervalMinutes')}
            >
              <option value="">
                Default{settings.latest ? ` (${formatInterval(settings.latest.defaultIntervalMinutes)})` : ''}
              </option>
              <For each={INTERVAL_CHOICES}>
                {(minutes) => <option value={String(minutes)}>{formatInterval(minutes)}</option>}
              </For>
            </select>
            <Show when={errors().intervalMinutes}>
              <span id="intervalMinutes-error" class="error">
                {errors().intervalMinutes}
              </span>
            </Show>
          </div>
        </div>
        <div class="form-actions">
          <button type="submit" class="primary" disabled={saving()}>
            {saving() ? 'Adding…' : 'Add site'}
          </button>
        </div>
        <Show when={formError()}>
          <div class="notice error" role="alert">
            {formError()}
          </div>
        </Show>
      </form>
      <div role="status" aria-live="polite">
        <Show when={added.length > 0}>
          <div class="notice success">
            <strong>Added {plural(added.length, 'site')}; first scans are starting.</strong>
            <ul>
              <For each={added}>
                {(site) => (
                  <li>
                    <A href={paths.site(site.id)}>{site.host}</A>
                  </li>
                )}
              </For>
            </ul>
            <A href={paths.overview()}>See the fleet</A>
          </div>
        </Show>
      </div>
    </section>
  );
}

type ImportReport = Awaited<ReturnType<typeof importCsv>>;

function importCsv(text: string) {
  return unwrap(
    api.api.sites.import.$post(
      { query: {} },
      { init: { body: text, headers: { 'Content-Type': 'text/csv; charset=utf-8' } } },
    ),
  );
}

function CsvImportForm() {
  const [text, setText] = createSignal('');
  const [error, setError] = createSignal<string | null>(null);
  const [report, setReport] = createSignal<ImportReport | null>(null);
  const [importing, setImporting] = createSignal(false);

  const readFile = async (file: File | undefined) => {
    if (!file) return;
    setText(await file.text());
    setError(null);
  };

  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    setError(null);
    if (!text().trim()) {
      setError('Paste at least one host, or choose a CSV file.');
      return;
    }
    setImporting(true);
    try {
      setReport(await importCsv(text()));
    } catch (failure) {
      setReport(null);
      setError(describeError(failure));
    } finally {
      setImporting(false);
    }
  };

  return (
    <section class="card" aria-labelledby="csv-heading">
      <h2 id="csv-heading">Import many sites</h2>
      <form onSubmit={submit} novalidate class="stack">
        <div class="field">
          <label for="csv">Sites, one per line: host[,label,tags,interval]</label>
          <textarea
            id="csv"
            name="csv"
            spellcheck={false}
            placeholder={'host,label,tags,interval\nshop.example.com,Shop,prod;eu,6h\nblog.example.org'}
            value={text()}
            onInput={(event) => setText(event.currentTarget.value)}
            aria-invalid={error() ? 'true' : undefined}
            aria-describedby={error() ? 'csv-hint csv-error' : 'csv-hint'}
          />
          <span id="csv-hint" class="hint">
            Tags are separated by semicolons; intervals read like 30m, 6h or 1d. A header line and # comments
            are skipped.
          </span>
          <Show when={error()}>
            <span id="csv-error" class="error" role="alert">
              {error()}
            </span>
          </Show>
        </div>
        <div class="form-actions">
          <label class="file-input">
            Or upload a file:{' '}
            <input
              type="file"
              accept=".csv,.txt,text/csv,text/plain"
              onChange={(event) => void readFile(event.currentTarget.files?.[0])}
            />
          </label>
          <button type="submit" class="primary" disabled={importing()}>
            {importing() ? 'Importing…' : 'Import'}
          </button>
        </div>
      </form>

      <div role="status" aria-live="polite">
        <Show when={report()}>
          {(result) => (
            <div class="stack">
              <p>
                <strong>
                  {result().created} added, {result().duplicates} already monitored, {result().invalid}{' '}
                  invalid.
                </strong>{' '}
                <Show when={result().created > 0}>
                  <A href={paths.overview()}>See the fleet</A>
                </Show>
              </p>
              <div class="table-wrap">
                <table aria-label="Import result per line">
                  <thead>
                    <tr>
                      <th scope="col">Line</th>
                      <th scope="col">Input</th>
                      <th scope="col">Result</th>
                      <th scope="col">Details</th>
                    </tr>
                  </thead>
                  <tbody>
                    <For each={result().lines}>
                      {(line) => (
                        <tr data-line={line.line}>
                          <td>{line.line}</td>
                          <td>
                            <code>{line.input}</code>
                          </td>
                          <Switch>
                            <Match when={line.status === 'created' && line}>
                              {(created) => (
                                <>
                                  <td class="result-added">added</td>
                                  <td>
                                    <A href={paths.site(created().siteId)}>{created().host}</A>
                                  </td>
                                </>
                              )}
                            </Match>
                            <Match when={line.status === 'duplicate' && line}>
                              {(duplicate) => (
                                <>
                                  <td class="result-duplicate">duplicate</td>
                                  <td>
                                    <Show
                                      when={duplicate().siteId}
                                      fallback={`${duplicate().host} is already monitored`}
                                    >
                                      {(id) => (
                                        <>
                                          {duplicate().host} is already monitored:{' '}
                                          <A href={paths.site(id())}>open it</A>
                                        </>
                                      )}
                                    </Show>
                                  </td>
                                </>
                              )}
                            </Match>
                            <Match when={line.status === 'invalid' && line}>
                              {(invalid) => (
                                <>
                                  <td class="result-invalid">invalid</td>
                                  <td>{invalid().error}</td>
                                </>
                              )}
                            </Match>
                          </Switch>
                        </tr>
                      )}
                    </For>
                  </tbody>
                </table>
              </div>
            </div>
          )}
        </Show>
      </div>
    </section>
  );
}

export default function AddSitesPage() {
  return (
    <>
      <div class="page-header">
        <div>
          <h1>Add sites</h1>
          <p>New sites are scanned right away, then on their interval.</p>
        </div>
      </div>
      <OneSiteForm />
      <CsvImportForm />
    </>
  );
}
