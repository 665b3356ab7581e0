import { A, useNavigate } from '@solidjs/router';
import { createSignal, Show } from 'solid-js';
import { api, describeError, unwrap } from '../api';
import { paths } from '../paths';
import { takeLinkToken, useSession } from '../session';
import { createNewPassword } from '../ui/NewPasswordFields';
import '../styles/accounts.css';

/** First run: the link `vigil serve` printed creates the first admin account (and signs it in). */
export default function SetupPage() {
  const session = useSession();
  const navigate = useNavigate();
  const token = takeLinkToken();
  const password = createNewPassword();
  const [error, setError] = createSignal<unknown>(null);
  const [busy, setBusy] = createSignal(false);

  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    const chosen = password.value();
    password.reveal();
    if (!token || chosen === null) return;
    const data = new FormData(event.currentTarget as HTMLFormElement);
    setBusy(true);
    setError(null);
    try {
      await unwrap(
        api.api.auth.setup.$post({
          json: {
            token,
            email: String(data.get('email') ?? ''),
            name: String(data.get('name') ?? ''),
            password: chosen,
          },
        }),
      );
      await session.refresh();
      navigate(paths.overview(), { replace: true });
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="card auth-card stack" aria-labelledby="setup-heading">
      <h1 id="setup-heading">Set up Vigil</h1>
      <Show
        when={token}
        fallback={
          <p>
            This page needs the one-time link <code>vigil serve</code> prints on its first start. Already set
            up? <A href={paths.login()}>Sign in</A>.
          </p>
        }
      >
        <p>Create the first admin account. It can then invite the rest of the team.</p>
        <form class="stack" onSubmit={submit} novalidate>
          <div class="field">
            <label for="setup-email">E-mail address</label>
            <input id="setup-email" name="email" type="email" autocomplete="username" required />
          </div>
          <div class="field">
            <label for="setup-name">Name</label>
            <input id="setup-name" name="name" autocomplete="name" />
          </div>
          <password.Fields idPrefix="setup" />
          <div class="form-actions">
            <button type="submit" class="primary" disabled={busy()}>
              {busy() ? 'Creating…' : 'Create admin account'}
            </button>
          </div>
          <Show when={error()}>
            <div class="notice error" role="alert">
              {describeError(error())}
            </div>
          </Show>
        </form>
      </Show>
    </section>
  );
}
