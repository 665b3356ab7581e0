import { A, useNavigate } from '@solidjs/router';
import { createResource, createSignal, Show } from 'solid-js';
import { api, describeError, unwrap } from '../api';
import { absoluteTime } from '../lib/format';
import { paths } from '../paths';
import { takeLinkToken, useSession } from '../session';
import { ErrorNotice } from '../ui/ErrorNotice';
import { createNewPassword } from '../ui/NewPasswordFields';
import '../styles/accounts.css';

/** An invitation link: says who it is for and with which role, then creates the account with a password. */
export default function InvitePage() {
  const session = useSession();
  const navigate = useNavigate();
  const token = takeLinkToken();
  const [invitation] = createResource(
    () => token ?? undefined,
    (value) => unwrap(api.api.auth.invitation.$post({ json: { token: value } })),
  );
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
        api.api.auth.invitation.accept.$post({
          json: { token, name: String(data.get('name') ?? ''), password: chosen },
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
    <section class="card auth-card stack" aria-labelledby="invite-heading">
      <h1 id="invite-heading">Join Vigil</h1>
      <Show when={!token}>
        <p>
          This page needs the invitation link an admin sent you. Have an account?{' '}
          <A href={paths.login()}>Sign in</A>.
        </p>
      </Show>
      <Show when={invitation.error}>
        <ErrorNotice error={invitation.error} />
      </Show>
      <Show when={invitation()}>
        {(details) => (
          <form class="stack" onSubmit={submit} novalidate>
            <p>
              You are invited as <strong>{details().role}</strong> with the address{' '}
              <strong>{details().email}</strong>. The link works until{' '}
              {absoluteTime(new Date(details().expiresAt))}.
            </p>
            <div class="field">
              <label for="invite-name">Name</label>
              <input id="invite-name" name="name" autocomplete="name" />
            </div>
            <password.Fields idPrefix="invite" />
            <div class="form-actions">
              <button type="submit" class="primary" disabled={busy()}>
                {busy() ? 'Creating…' : 'Create account'}
              </button>
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
