import type { InferResponseType } from 'hono/client';
import { createResource, createSignal, For, Show } from 'solid-js';
import { api, describeError, unwrap } from '../api';
import { absoluteTime } from '../lib/format';
import { useSession } from '../session';
import { CopyButton } from '../ui/CopyButton';
import { ErrorNotice } from '../ui/ErrorNotice';
import { createNewPassword } from '../ui/NewPasswordFields';
import { RelativeTime } from '../ui/RelativeTime';
import '../styles/accounts.css';

type CreatedToken = InferResponseType<typeof api.api.tokens.$post, 201>;

function ChangePassword() {
  const password = createNewPassword();
  const [error, setError] = createSignal<unknown>(null);
  const [done, setDone] = createSignal(false);
  const [busy, setBusy] = createSignal(false);

  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const chosen = password.value();
    password.reveal();
    if (chosen === null) return;
    setBusy(true);
    setError(null);
    setDone(false);
    try {
      const currentPassword = String(new FormData(form).get('currentPassword') ?? '');
      await unwrap(api.api.auth.password.$post({ json: { currentPassword, newPassword: chosen } }));
      form.reset();
      setDone(true);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="card" aria-labelledby="password-heading">
      <h2 id="password-heading">Password</h2>
      <form class="stack" onSubmit={submit} novalidate>
        <div class="field">
          <label for="current-password">Current password</label>
          <input
            id="current-password"
            name="currentPassword"
            type="password"
            autocomplete="current-password"
          />
        </div>
        <password.Fields idPrefix="new" label="New password" />
        <div class="form-actions">
          <button type="submit" disabled={busy()}>
            Change password
          </button>
          <span role="status" aria-live="polite">
            {done() ? 'Changed. Your other sessions have been signed out.' : ''}
          </span>
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

function ApiTokens(props: { showOwner: boolean }) {
  const [tokens, { refetch }] = createResource(() => unwrap(api.api.tokens.$get()));
  const [created, setCreated] = createSignal<CreatedToken | null>(null);
  const [error, setError] = createSignal<unknown>(null);

  const create = async (event: SubmitEvent) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    setError(null);
    try {
      const scope = data.get('scope') === 'write' ? 'write' : 'read';
      setCreated(
        await unwrap(api.api.tokens.$post({ json: { name: String(data.get('name') ?? ''), scope } })),
      );
      form.reset();
      await refetch();
    } catch (failure) {
      setError(failure);
    }
  };

  const revoke = async (id: number, name: string) => {
    if (!confirm(`Revoke the token "${name}"? Scripts using it stop working at once.`)) return;
    setError(null);
    try {
      await unwrap(api.api.tokens[':id'].$delete({ param: { id: String(id) } }));
      await refetch();
    } catch (failure) {
      setError(failure);
    }
  };

  return (
    <section class="card stack" aria-labelledby="tokens-heading">
      <h2 id="tokens-heading">API tokens</h2>
      <p class="muted">
        For scripts and CI: send <code>Authorization: Bearer vgl_…</code>. A read token reads; a write token
        may also change what your role allows.
      </p>
      <form class="row" onSubmit={create}>
        <div class="field">
          <label for="token-name">Name</label>
          <input id="token-name" name="name" required maxLength={100} placeholder="CI grade gate" />
        </div>
        <div class="field">
          <label for="token-scope">Scope</label>
          <select id="token-scope" name="scope">
            <option value="read">read</option>
            <option value="write">write</option>
          </select>
        </div>
        <button type="submit">Create token</button>
      </form>
      <Show when={created()}>
        {(token) => (
          <div class="notice success" role="status">
            <p>
              Token <strong>{token().name}</strong> ({token().scope}). Copy it now: it is not shown again.
            </p>
            <div class="secret">
              <code data-testid="new-token">{token().token}</code>
              <CopyButton text={token().token} label="Copy the new token" />
            </div>
          </div>
        )}
      </Show>
      <Show when={error()}>
        <div class="notice error" role="alert">
          {describeError(error())}
        </div>
      </Show>
      <Show when={tokens.error}>
        <ErrorNotice error={tokens.error} onRetry={refetch} />
      </Show>
      <Show when={!tokens.error && tokens.latest?.length} fallback={<p class="muted">No tokens yet.</p>}>
        <div class="table-wrap">
          <table aria-label="API tokens">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Scope</th>
                <th scope="col">Token</th>
                <Show when={props.showOwner}>
                  <th scope="col">Owner</th>
                </Show>
                <th scope="col">Created</th>
                <th scope="col">Last used</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              <For each={tokens.latest}>
                {(token) => (
                  <tr>
                    <td>{token.name}</td>
                    <td>{token.scope}</td>
                    <td>
                      <code>{token.prefix}</code>
                    </td>
                    <Show when={props.showOwner}>
                      <td>{token.owner.email}</td>
                    </Show>
                    <td class="times">
                      <RelativeTime at={token.createdAt} />
                    </td>
                    <td class="times">
                      <RelativeTime at={token.lastUsedAt} fallback="never" />
                    </td>
                    <td>
                      <button
                        type="button"
                        class="small"
                        onClick={() => void revoke(token.id, token.name)}
                        aria-label={`Revoke ${token.name}`}
                      >
                        Revoke
                      </button>
                    </td>
                  </tr>
                )}
              </For>
            </tbody>
          </table>
        </div>
      </Show>
    </section>
  );
}

/** The signed-in user: who they are, their password, their sessions and their API tokens. */
export default function AccountPage() {
  const session = useSession();
  const [signOutError, setSignOutError] = createSignal<unknown>(null);

  const signOutEverywhere = async () => {
    if (!confirm('Sign out of Vigil in every browser, this one included?')) return;
    try {
      await unwrap(api.api.auth['logout-everywhere'].$post());
      await session.refresh();
    } catch (failure) {
      setSignOutError(failure);
    }
  };

  return (
    <>
      <div class="page-header">
        <div>
          <h1>Your account</h1>
          <Show when={session.me()}>
            {(me) => (
              <p>
                {me().user.email} · {me().user.role}
                <Show when={me().expiresAt}>
                  {(end) => <> · this session ends {absoluteTime(new Date(end()))} unless used</>}
                </Show>
              </p>
            )}
          </Show>
        </div>
      </div>
      <div class="stack">
        <ChangePassword />
        <section class="card stack" aria-labelledby="sessions-heading">
          <h2 id="sessions-heading">Sessions</h2>
          <p class="muted">
            Lost a laptop, or signed in somewhere you should not have? End every session at once.
          </p>
          <div>
            <button type="button" onClick={() => void signOutEverywhere()}>
              Sign out everywhere
            </button>
          </div>
          <Show when={signOutError()}>
            <div class="notice error" role="alert">
              {describeError(signOutError())}
            </div>
          </Show>
        </section>
        <ApiTokens showOwner={session.isAdmin()} />
      </div>
    </>
  );
}
