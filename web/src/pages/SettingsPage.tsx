import { createResource, createSignal, Show } from 'solid-js';
import { MAX_INTERVAL_MINUTES, MIN_INTERVAL_MINUTES } from '../../../server/services/context';
import { ApiError, api, describeError, unwrap } from '../api';
import { formatInterval } from '../lib/format';
import { ErrorNotice } from '../ui/ErrorNotice';
import SettingsAlerts from './SettingsAlerts';

type SettingsValue = Awaited<ReturnType<typeof loadSettings>>;
type SettingKey = keyof SettingsValue;

function loadSettings() {
  return unwrap(api.api.settings.$get());
}

function issueMessages(error: unknown): Partial<Record<SettingKey, string>> {
  if (!(error instanceof ApiError) || typeof error.details !== 'object' || error.details === null) return {};
  const issues = (error.details as { issues?: unknown }).issues;
  const messages: Partial<Record<SettingKey, string>> = {};
  if (!Array.isArray(issues)) return messages;
  for (const issue of issues) {
    if (typeof issue?.path === 'string' && typeof issue?.message === 'string')
      messages[issue.path as SettingKey] ??= issue.message;
  }
  return messages;
}

/** The admin settings the API offers: scan defaults, retention, concurrency and private-address scanning. */
export default function SettingsPage() {
  const [settings, { mutate }] = createResource(loadSettings);
  const [errors, setErrors] = createSignal<Partial<Record<SettingKey, string>>>({});
  const [saveError, setSaveError] = createSignal<unknown>(null);
  const [saved, setSaved] = createSignal(false);
  const [saving, setSaving] = createSignal(false);

  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    const current = settings.latest;
    if (!current) return;
    const data = new FormData(event.currentTarget as HTMLFormElement);
    const next: SettingsValue = {
      allowPrivate: data.get('allowPrivate') === 'on',
      retentionDays: Number(data.get('retentionDays')),
      scanConcurrency: Number(data.get('scanConcurrency')),
      defaultIntervalMinutes: Number(data.get('defaultIntervalMinutes')),
    };
    const patch = Object.fromEntries(
      (Object.keys(next) as SettingKey[])
        .filter((key) => next[key] !== current[key])
        .map((key) => [key, next[key]]),
    );
    setSaved(false);
    setSaveError(null);
    setErrors({});
    if (Object.keys(patch).length === 0) {
      setSaved(true);
      return;
    }
    setSaving(true);
    try {
      mutate(await unwrap(api.api.settings.$patch({ json: patch })));
      setSaved(true);
    } catch (error) {
      const byField = issueMessages(error);
      setErrors(byField);
      if (Object.keys(byField).length === 0) setSaveError(error);
    } finally {
      setSaving(false);
    }
  };

  const invalid = (key: SettingKey) => (errors()[key] ? 'true' : undefined);

  return (
    <>
      <div class="page-header">
        <div>
          <h1>Settings</h1>
          <p>Defaults for every site; values saved here override the server's environment.</p>
        </div>
      </div>
      <Show when={settings.error}>
        <ErrorNotice error={settings.error} />
      </Show>
      <Show when={settings.latest}>
        {(current) => (
          <form class="card stack" onSubmit={submit} novalidate>
            <div class="grid-2">
              <div class="field">
                <label for="defaultIntervalMinutes">Default scan interval (minutes)</label>
                <input
                  id="defaultIntervalMinutes"
                  name="defaultIntervalMinutes"
                  type="number"
                  min={MIN_INTERVAL_MINUTES}
                  max={MAX_INTERVAL_MINUTES}
                  value={current().defaultIntervalMinutes}
                  aria-invalid={invalid('defaultIntervalMinutes')}
                  aria-describedby="interval-hint"
                />
                <span id="interval-hint" class="hint">
                  Now every {formatInterval(current().defaultIntervalMinutes)}; between {MIN_INTERVAL_MINUTES}{' '}
                  minutes and {formatInterval(MAX_INTERVAL_MINUTES)}. Sites with their own interval keep it.
                </span>
                <Show when={errors().defaultIntervalMinutes}>
                  <span class="error">{errors().defaultIntervalMinutes}</span>
                </Show>
              </div>
              <div class="field">
                <label for="retentionDays">Keep every scan for (days)</label>
                <input
                  id="retentionDays"
                  name="retentionDays"
                  type="number"
                  min="1"
                  value={current().retentionDays}
                  aria-invalid={invalid('retentionDays')}
                  aria-describedby="retention-hint"
                />
                <span id="retention-hint" class="hint">
                  Older scans are folded into one summary per site per day.
                </span>
                <Show when={errors().retentionDays}>
                  <span class="error">{errors().retentionDays}</span>
                </Show>
              </div>
              <div class="field">
                <label for="scanConcurrency">Scans at once</label>
                <input
                  id="scanConcurrency"
                  name="scanConcurrency"
                  type="number"
                  min="1"
                  value={current().scanConcurrency}
                  aria-invalid={invalid('scanConcurrency')}
                />
                <Show when={errors().scanConcurrency}>
                  <span class="error">{errors().scanConcurrency}</span>
                </Show>
              </div>
              <div class="field">
                <span class="row">
                  <input
                    id="allowPrivate"
                    name="allowPrivate"
                    type="checkbox"
                    checked={current().allowPrivate}
                    aria-describedby="private-hint"
                  />
                  <label for="allowPrivate">Scan private and loopback addresses</label>
                </span>
                <span id="private-hint" class="hint">
                  For fleets on an internal network. Link-local and cloud metadata addresses stay refused.
                </span>
              </div>
            </div>
            <div class="form-actions">
              <button type="submit" class="primary" disabled={saving()}>
                {saving() ? 'Saving…' : 'Save settings'}
              </button>
              <span role="status" aria-live="polite">
                {saved() ? 'Saved.' : ''}
              </span>
            </div>
            <Show when={saveError()}>
              <div class="notice error" role="alert">
                {describeError(saveError())}
              </div>
            </Show>
          </form>
        )}
      </Show>
      <SettingsAlerts />
    </>
  );
}
