import { useNavigate, useSearchParams } from '@solidjs/router';
import { createEffect, createResource, createSignal, Show } from 'solid-js';
import { api, describeError, unwrap } from '../api';
import { safeNextPath } from '../lib/next-path';
import { useSession } from '../session';
import '../styles/accounts.css';

/** E-mail and password; back to the page that asked for it. Says so when Vigil has no accounts yet. */
export default function LoginPage() {
  const session = useSession();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const [status] = createResource(() => unwrap(api.api.auth.status.$get()));
  const [error, setError] = createSignal<unknown>(null);
  const [busy, setBusy] = createSignal(false);

  createEffect(() => {
    if (session.me()) navigate(safeNextPath(params.next), { replace: true });
  });

  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    const data = new FormData(event.currentTarget as HTMLFormElement);
    setBusy(true);
    setError(null);
    try {
      await unwrap(
        api.api.auth.login.$post({
          json: { email: String(data.get('email') ?? ''), password: String(data.get('password') ?? '') },
        }),
      );
      await session.refresh();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="card auth-card stack" aria-labelledby="login-heading">
      <h1 id="login-heading">Sign in to Vigil</h1>
      <Show when={status()?.setupRequired}>
        <div class="notice" role="status">
          Vigil has no accounts yet. Open the one-time setup link that <code>vigil serve</code> printed when
          it started.
        </div>
      </Show>
      <form class="stack" onSubmit={submit}>
        <div class="field">
          <label for="login-email">E-mail address</label>
          <input id="login-email" name="email" type="email" autocomplete="username" required />
        </div>
        <div class="field">
          <label for="login-password">Password</label>
          <input
            id="login-password"
            name="password"
            type="password"
            autocomplete="current-password"
            required
          />
        </div>
        <div class="form-actions">
          <button type="submit" class="primary" disabled={busy()}>
            {busy() ? 'Signing in…' : 'Sign in'}
          </button>
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
