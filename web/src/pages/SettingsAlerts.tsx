import type { InferRequestType, InferResponseType } from 'hono/client';
import { createResource, createSignal, For, Match, Show, Switch } from 'solid-js';
import { SEVERITIES } from '../../../server/scan/types';
import { api, describeError, unwrap } from '../api';
import { plural } from '../lib/format';
import { ErrorNotice } from '../ui/ErrorNotice';
import './incidents.css';

type AlertSettings = InferResponseType<typeof api.api.alerts.settings.$get, 200>;
type Recipient = InferResponseType<typeof api.api.alerts.recipients.$get, 200>['items'][number];
type NewRecipient = InferRequestType<typeof api.api.alerts.recipients.$post>['json'];
type Subscription = NonNullable<NewRecipient['subscriptions']>[number];

function describeSubscription(subscription: Recipient['subscriptions'][number]): string {
  if (subscription.scope === 'all') return 'every site';
  if (subscription.scope === 'site') return subscription.host;
  return `sites tagged ${subscription.tag}`;
}

/** The alert part of the settings page: how mail goes out, when Vigil alerts, and who hears about what. */
export default function SettingsAlerts() {
  const [status, { refetch: refetchStatus }] = createResource(() => unwrap(api.api.alerts.status.$get()));
  return (
    <>
      <section class="card stack" aria-labelledby="alert-mail-heading">
        <h2 id="alert-mail-heading">Alert mail</h2>
        <Show when={status.error}>
          <ErrorNotice error={status.error} onRetry={refetchStatus} />
        </Show>
        <Show when={status.latest}>
          {(current) => (
            <p class="alert-status">
              <Show
                when={current().smtp}
                fallback={
                  <>
                    Mail is not configured: set <code>VIGIL_SMTP_URL</code> and restart Vigil. Incidents still
                    open and close here.
                  </>
                }
              >
                {(smtp) => (
                  <>
                    Mail goes through <code>{smtp()}</code> from <code>{current().from}</code>.
                  </>
                )}
              </Show>{' '}
              <Show when={current().waiting > 0}>
                {plural(current().waiting, 'mail')} waiting to be sent.
              </Show>
            </p>
          )}
        </Show>
        <TestMail onSent={() => void refetchStatus()} />
      </section>
      <AlertRules />
      <Recipients />
    </>
  );
}

function TestMail(props: { onSent: () => void }) {
  const [to, setTo] = createSignal('');
  const [sending, setSending] = createSignal(false);
  const [result, setResult] = createSignal('');
  const [error, setError] = createSignal<unknown>(null);
  const send = async (event: SubmitEvent) => {
    event.preventDefault();
    setSending(true);
    setResult('');
    setError(null);
    try {
      const address = to().trim();
      const { results } = await unwrap(api.api.alerts.test.$post({ json: address ? { to: address } : {} }));
      setResult(
        results
          .map((entry) => `${entry.to}: ${entry.delivered ? 'sent' : 'failed'} (${entry.response})`)
          .join('; '),
      );
      props.onSent();
    } catch (failure) {
      setError(failure);
    } finally {
      setSending(false);
    }
  };
  return (
    <form class="row" onSubmit={send}>
      <div class="field grow">
        <label for="test-mail-to">Send a test mail to</label>
        <input
          id="test-mail-to"
          type="email"
          placeholder="every enabled recipient"
          value={to()}
          onInput={(event) => setTo(event.currentTarget.value)}
        />
      </div>
      <button type="submit" disabled={sending()}>
        {sending() ? 'Sending…' : 'Send test mail'}
      </button>
      <span aria-live="polite">{result()}</span>
      <Show when={error()}>
        <div class="notice error" role="alert">
          {describeError(error())}
        </div>
      </Show>
    </form>
  );
}

function AlertRules() {
  const [rules, { mutate }] = createResource(() => unwrap(api.api.alerts.settings.$get()));
  const [saved, setSaved] = createSignal(false);
  const [error, setError] = createSignal<unknown>(null);
  const save = async (event: SubmitEvent) => {
    event.preventDefault();
    const data = new FormData(event.currentTarget as HTMLFormElement);
    const next: AlertSettings = {
      minSeverity: data.get('minSeverity') as AlertSettings['minSeverity'],
      gradeDropSteps: Number(data.get('gradeDropSteps')),
      unreachableAfter: Number(data.get('unreachableAfter')),
      reminderHours: Number(data.get('reminderHours')),
      digestHour: Number(data.get('digestHour')),
    };
    setSaved(false);
    setError(null);
    try {
      mutate(await unwrap(api.api.alerts.settings.$patch({ json: next })));
      setSaved(true);
    } catch (failure) {
      setError(failure);
    }
  };
  return (
    <section class="card" aria-labelledby="alert-rules-heading">
      <h2 id="alert-rules-heading">When Vigil alerts</h2>
      <Show when={rules.error}>
        <ErrorNotice error={rules.error} />
      </Show>
      <Show when={rules.latest}>
        {(current) => (
          <form class="stack" onSubmit={save} novalidate>
            <div class="grid-2">
              <div class="field">
                <label for="minSeverity">Alert on new findings from</label>
                <select id="minSeverity" name="minSeverity" value={current().minSeverity}>
                  <For each={SEVERITIES}>
                    {(severity) => <option value={severity}>{severity} and worse</option>}
                  </For>
                </select>
                <span class="hint">Certificate expiry always warns, at 30, 14, 7 and 1 days.</span>
              </div>
              <div class="field">
                <label for="gradeDropSteps">Grade drop that alerts (steps)</label>
                <input
                  id="gradeDropSteps"
                  name="gradeDropSteps"
                  type="number"
                  min="0"
                  max="12"
                  value={current().gradeDropSteps}
                />
                <span class="hint">A → B+ is 2 steps; 0 turns grade alerts off.</span>
              </div>
              <div class="field">
                <label for="unreachableAfter">Unreachable scans in a row before an alert</label>
                <input
                  id="unreachableAfter"
                  name="unreachableAfter"
                  type="number"
                  min="1"
                  max="100"
                  value={current().unreachableAfter}
                />
              </div>
              <div class="field">
                <label for="reminderHours">Remind of open incidents every (hours)</label>
                <input
                  id="reminderHours"
                  name="reminderHours"
                  type="number"
                  min="0"
                  value={current().reminderHours}
                />
                <span class="hint">Until acknowledged; 0 sends no reminders.</span>
              </div>
              <div class="field">
                <label for="digestHour">Daily digest at (hour, UTC)</label>
                <input
                  id="digestHour"
                  name="digestHour"
                  type="number"
                  min="0"
                  max="23"
                  value={current().digestHour}
                />
              </div>
            </div>
            <div class="form-actions">
              <button type="submit" class="primary">
                Save alert settings
              </button>
              <span aria-live="polite">{saved() ? 'Alert settings saved.' : ''}</span>
            </div>
            <Show when={error()}>
              <div class="notice error" role="alert">
                {describeError(error())}
              </div>
            </Show>
          </form>
        )}
      </Show>
    </section>
  );
}

function Recipients() {
  const [recipients, { refetch }] = createResource(() => unwrap(api.api.alerts.recipients.$get()));
  const [sites] = createResource(() => unwrap(api.api.sites.$get({ query: { limit: '1000' } })));
  const [scope, setScope] = createSignal<Subscription['scope']>('all');
  const [error, setError] = createSignal<unknown>(null);

  const add = async (event: SubmitEvent) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    const about: Subscription =
      scope() === 'site'
        ? { scope: 'site', siteId: Number(data.get('siteId')) }
        : scope() === 'tag'
          ? { scope: 'tag', tag: String(data.get('tag') ?? '').trim() }
          : { scope: 'all' };
    setError(null);
    try {
      await unwrap(
        api.api.alerts.recipients.$post({
          json: {
            email: String(data.get('email') ?? '').trim(),
            name: String(data.get('name') ?? '').trim(),
            mode: data.get('mode') === 'digest' ? 'digest' : 'immediate',
            subscriptions: [about],
          },
        }),
      );
      form.reset();
      setScope('all');
      await refetch();
    } catch (failure) {
      setError(failure);
    }
  };

  const remove = async (recipient: Recipient) => {
    setError(null);
    try {
      await unwrap(api.api.alerts.recipients[':id'].$delete({ param: { id: String(recipient.id) } }));
      await refetch();
    } catch (failure) {
      setError(failure);
    }
  };

  return (
    <section class="card stack" aria-labelledby="recipients-heading">
      <h2 id="recipients-heading">Who gets alerts</h2>
      <Show when={recipients.error}>
        <ErrorNotice error={recipients.error} onRetry={refetch} />
      </Show>
      <Show when={recipients.latest}>
        {(list) => (
          <Show
            when={list().items.length > 0}
            fallback={<p class="muted">Nobody yet: add an address below.</p>}
          >
            <div class="table-wrap">
              <table class="recipients">
                <thead>
                  <tr>
                    <th scope="col">Address</th>
                    <th scope="col">Mails</th>
                    <th scope="col">About</th>
                    <th scope="col">
                      <span class="visually-hidden">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  <For each={list().items}>
                    {(recipient) => (
                      <tr>
                        <td>
                          <code>{recipient.email}</code>
                          <Show when={recipient.name}>
                            <div class="muted">{recipient.name}</div>
                          </Show>
                          <Show when={!recipient.enabled}>
                            <span class="tag">paused</span>
                          </Show>
                        </td>
                        <td>{recipient.mode === 'digest' ? 'Daily digest (critical at once)' : 'At once'}</td>
                        <td>{recipient.subscriptions.map(describeSubscription).join(', ') || 'nothing'}</td>
                        <td>
                          <button
                            type="button"
                            class="small"
                            aria-label={`Remove ${recipient.email}`}
                            onClick={() => void remove(recipient)}
                          >
                            Remove
                          </button>
                        </td>
                      </tr>
                    )}
                  </For>
                </tbody>
              </table>
            </div>
          </Show>
        )}
      </Show>
      <form class="stack" onSubmit={add}>
        <h3>Add a recipient</h3>
        <div class="grid-2">
          <div class="field">
            <label for="recipient-email">E-mail address</label>
            <input id="recipient-email" name="email" type="email" required />
          </div>
          <div class="field">
            <label for="recipient-name">Name (optional)</label>
            <input id="recipient-name" name="name" maxlength={200} />
          </div>
          <div class="field">
            <label for="recipient-mode">Mails</label>
            <select id="recipient-mode" name="mode">
              <option value="immediate">At once</option>
              <option value="digest">Daily digest (critical at once)</option>
            </select>
          </div>
          <div class="field">
            <label for="recipient-scope">About</label>
            <select
              id="recipient-scope"
              value={scope()}
              onChange={(event) => setScope(event.currentTarget.value as Subscription['scope'])}
            >
              <option value="all">Every site</option>
              <option value="site">One site</option>
              <option value="tag">Sites with a tag</option>
            </select>
          </div>
          <Switch>
            <Match when={scope() === 'site'}>
              <div class="field">
                <label for="recipient-site">Site</label>
                <select id="recipient-site" name="siteId" required>
                  <For each={sites.latest?.items ?? []}>
                    {(site) => <option value={String(site.id)}>{site.host}</option>}
                  </For>
                </select>
              </div>
            </Match>
            <Match when={scope() === 'tag'}>
              <div class="field">
                <label for="recipient-tag">Tag</label>
                <input id="recipient-tag" name="tag" required placeholder="e.g. prod" />
              </div>
            </Match>
          </Switch>
        </div>
        <div class="form-actions">
          <button type="submit">Add recipient</button>
        </div>
        <Show when={error()}>
          <div class="notice error" role="alert">
            {describeError(error())}
          </div>
        </Show>
      </form>
    </section>
  );
}
