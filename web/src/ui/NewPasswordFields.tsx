import { createSignal, Show } from 'solid-js';

const MIN_LENGTH = 12;

/** A new password and its repetition; `value()` is the password once both agree and it is long enough, else null. */
export function createNewPassword() {
  const [password, setPassword] = createSignal('');
  const [repeat, setRepeat] = createSignal('');
  const [touched, setTouched] = createSignal(false);
  const problem = () => {
    if ([...password()].length < MIN_LENGTH) return `Use at least ${MIN_LENGTH} characters.`;
    if (password() !== repeat()) return 'The two passwords differ.';
    return null;
  };
  return {
    value: () => (problem() ? null : password()),
    /** Shows the problem next to the fields (after a submit attempt). */
    reveal: () => setTouched(true),
    Fields: (props: { label?: string; idPrefix: string }) => (
      <>
        <div class="field">
          <label for={`${props.idPrefix}-password`}>{props.label ?? 'Password'}</label>
          <input
            id={`${props.idPrefix}-password`}
            type="password"
            autocomplete="new-password"
            required
            minLength={MIN_LENGTH}
            value={password()}
            onInput={(event) => setPassword(event.currentTarget.value)}
            aria-describedby={`${props.idPrefix}-password-hint`}
            aria-invalid={touched() && problem() ? 'true' : undefined}
          />
          <span id={`${props.idPrefix}-password-hint`} class="hint">
            At least {MIN_LENGTH} characters, not a common password. A few unrelated words work well.
          </span>
        </div>
        <div class="field">
          <label for={`${props.idPrefix}-repeat`}>Repeat the password</label>
          <input
            id={`${props.idPrefix}-repeat`}
            type="password"
            autocomplete="new-password"
            required
            value={repeat()}
            onInput={(event) => setRepeat(event.currentTarget.value)}
            aria-invalid={touched() && problem() ? 'true' : undefined}
          />
          <Show when={touched() && problem()}>
            <span class="error" role="alert">
              {problem()}
            </span>
          </Show>
        </div>
      </>
    ),
  };
}
