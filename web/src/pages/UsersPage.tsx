import type { InferResponseType } from 'hono/client';
import { createResource, createSignal, For, Show } from 'solid-js';
import { api, describeError, unwrap } from '../api';
import { absoluteTime } from '../lib/format';
import { useSession } from '../session';
import { CopyButton } from '../ui/CopyButton';
import { ErrorNotice } from '../ui/ErrorNotice';
import { RelativeTime } from '../ui/RelativeTime';
import '../styles/accounts.css';

type CreatedInvitation = InferResponseType<typeof api.api.users.invitations.$post, 201>;
type User = InferResponseType<typeof api.api.users.$get, 200>[number];
type Role = User['role'];

function InviteForm(props: { onInvited: () => void }) {
  const [created, setCreated] = createSignal<CreatedInvitation | null>(null);
  const [error, setError] = createSignal<unknown>(null);
  const [busy, setBusy] = createSignal(false);

  const submit = async (event: SubmitEvent) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    setBusy(true);
    setError(null);
    try {
      const role: Role = data.get('role') === 'admin' ? 'admin' : 'viewer';
      setCreated(
        await unwrap(
          api.api.users.invitations.$post({ json: { email: String(data.get('email') ?? ''), role } }),
        ),
      );
      form.reset();
      props.onInvited();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="card stack" aria-labelledby="invite-heading">
      <h2 id="invite-heading">Invite someone</h2>
      <form class="row" onSubmit={submit}>
        <div class="field">
          <label for="invite-email">E-mail address</label>
          <input id="invite-email" name="email" type="email" required />
        </div>
        <div class="field">
          <label for="invite-role">Role</label>
          <select id="invite-role" name="role">
            <option value="viewer">viewer: sees everything, acknowledges incidents</option>
            <option value="admin">admin: also manages sites, settings and users</option>
          </select>
        </div>
        <button type="submit" class="primary" disabled={busy()}>
          Create invitation link
        </button>
      </form>
      <Show when={created()}>
        {(invitation) => (
          <div class="notice success" role="status">
            <p>
              Send this link to <strong>{invitation().invitation.email}</strong> yourself (Vigil does not
              e-mail it). It works once, until {absoluteTime(new Date(invitation().invitation.expiresAt))}.
            </p>
            <div class="secret">
              <code data-testid="invitation-link">{invitation().link}</code>
              <CopyButton text={invitation().link} label="Copy the invitation link" />
            </div>
          </div>
        )}
      </Show>
      <Show when={error()}>
        <div class="notice error" role="alert">
          {describeError(error())}
        </div>
      </Show>
    </section>
  );
}

/** Admins: the team's accounts (role, disable, delete) and invitations. */
export default function UsersPage() {
  const session = useSession();
  const [users, { refetch: refetchUsers }] = createResource(() => unwrap(api.api.users.$get()));
  const [pending, { refetch: refetchPending }] = createResource(() =>
    unwrap(api.api.users.invitations.$get()),
  );
  const [error, setError] = createSignal<unknown>(null);

  const act = async (work: () => Promise<unknown>) => {
    setError(null);
    try {
      await work();
      await Promise.all([refetchUsers(), refetchPending()]);
    } catch (failure) {
      setError(failure);
    }
  };
  const update = (user: User, patch: { role?: Role; disabled?: boolean }) =>
    act(() => unwrap(api.api.users[':id'].$patch({ param: { id: String(user.id) }, json: patch })));
  const remove = (user: User) => {
    if (!confirm(`Delete the account of ${user.email}? Their sessions and API tokens end now.`)) return;
    void act(() => unwrap(api.api.users[':id'].$delete({ param: { id: String(user.id) } })));
  };
  const revoke = (id: number, email: string) => {
    if (!confirm(`Revoke the invitation for ${email}?`)) return;
    void act(() => unwrap(api.api.users.invitations[':id'].$delete({ param: { id: String(id) } })));
  };

  return (
    <>
      <div class="page-header">
        <div>
          <h1>Users</h1>
          <p>Admins manage sites, settings and users; viewers see everything and acknowledge incidents.</p>
        </div>
      </div>
      <Show when={users.error ?? pending.error}>{(failure) => <ErrorNotice error={failure()} />}</Show>
      <Show when={!users.error && !pending.error}>
        <div class="stack">
          <InviteForm onInvited={() => void refetchPending()} />
          <Show when={error()}>
            <div class="notice error" role="alert">
              {describeError(error())}
            </div>
          </Show>
          <section class="card" aria-labelledby="accounts-heading">
            <h2 id="accounts-heading">Accounts</h2>
            <div class="table-wrap">
              <table aria-label="Accounts">
                <thead>
                  <tr>
                    <th scope="col">Account</th>
                    <th scope="col">Role</th>
                    <th scope="col">Status</th>
                    <th scope="col">Last sign-in</th>
                    <th scope="col">
                      <span class="visually-hidden">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  <For each={users.latest}>
                    {(user) => {
                      const self = () => session.me()?.user.id === user.id;
                      return (
                        <tr data-email={user.email}>
                          <td>
                            {user.email}
                            <Show when={user.name}>
                              <span class="muted"> · {user.name}</span>
                            </Show>
                            <Show when={self()}>
                              <span class="muted"> (you)</span>
                            </Show>
                          </td>
                          <td>
                            <select
                              aria-label={`Role of ${user.email}`}
                              value={user.role}
                              onChange={(event) =>
                                void update(user, {
                                  role: event.currentTarget.value === 'admin' ? 'admin' : 'viewer',
                                })
                              }
                            >
                              <option value="viewer">viewer</option>
                              <option value="admin">admin</option>
                            </select>
                          </td>
                          <td>{user.disabled ? 'disabled' : 'active'}</td>
                          <td class="times">
                            <RelativeTime at={user.lastLoginAt} fallback="never" />
                          </td>
                          <td>
                            <div class="row">
                              <button
                                type="button"
                                class="small"
                                onClick={() => void update(user, { disabled: !user.disabled })}
                                aria-label={`${user.disabled ? 'Enable' : 'Disable'} ${user.email}`}
                              >
                                {user.disabled ? 'Enable' : 'Disable'}
                              </button>
                              <Show when={!self()}>
                                <button
                                  type="button"
                                  class="small"
                                  onClick={() => remove(user)}
                                  aria-label={`Delete ${user.email}`}
                                >
                                  Delete
                                </button>
                              </Show>
                            </div>
                          </td>
                        </tr>
                      );
                    }}
                  </For>
                </tbody>
              </table>
            </div>
          </section>
          <section class="card" aria-labelledby="pending-heading">
            <h2 id="pending-heading">Pending invitations</h2>
            <Show when={pending.latest?.length} fallback={<p class="muted">None.</p>}>
              <div class="table-wrap">
                <table aria-label="Pending invitations">
                  <thead>
                    <tr>
                      <th scope="col">Address</th>
                      <th scope="col">Role</th>
                      <th scope="col">Invited by</th>
                      <th scope="col">Expires</th>
                      <th scope="col">
                        <span class="visually-hidden">Actions</span>
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    <For each={pending.latest}>
                      {(invitation) => (
                        <tr>
                          <td>{invitation.email}</td>
                          <td>{invitation.role}</td>
                          <td>{invitation.invitedBy ?? '—'}</td>
                          <td class="times">{absoluteTime(new Date(invitation.expiresAt))}</td>
                          <td>
                            <button
                              type="button"
                              class="small"
                              onClick={() => revoke(invitation.id, invitation.email)}
                              aria-label={`Revoke the invitation for ${invitation.email}`}
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
        </div>
      </Show>
    </>
  );
}
