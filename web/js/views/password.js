// Changing one's own password, for a bettor (Account page) and an operator
// (Operator page): the password on file, the new one twice, then PUT
// .../password. The server ends every other session of the account; the
// one this page uses keeps working, so the person stays signed in here.
import { field, h } from '../dom.js';
import { clearFieldErrors, errorBox, fieldError, showFieldErrors, statusBox } from '../errors.js';

export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 128; // characters (code points), as the API counts them

// change(current, next) makes the call (current is undefined when left
// empty); currentHint says when the current password may be left empty.
export function passwordChangeForm({ headingId, heading = 'Change your password', currentHint, change }) {
  const current = h('input', { type: 'password', name: 'current_password', 'data-field': 'current_password', autocomplete: 'current-password' });
  const next = h('input', { type: 'password', name: 'new_password', 'data-field': 'new_password', autocomplete: 'new-password', required: true });
  const again = h('input', { type: 'password', name: 'new_password_again', 'data-field': 'new_password_again', autocomplete: 'new-password', required: true });
  const error = errorBox();
  const status = statusBox();
  const submit = h('button', { type: 'submit', class: 'primary', text: 'Change password' });
  const form = h(
    'form',
    { class: 'card form password-form', 'aria-labelledby': headingId, novalidate: true },
    h('h2', { id: headingId, text: heading }),
    field('Current password', current, currentHint),
    field('New password', next, `${PASSWORD_MIN} to ${PASSWORD_MAX} characters.`),
    field('New password again', again),
    h('p', { class: 'hint', text: 'Your other sign-ins end when the password changes; this one stays.' }),
    error.el,
    status.el,
    submit,
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.clear();
    status.clear();
    clearFieldErrors(form);
    const length = [...next.value].length;
    if (length < PASSWORD_MIN || length > PASSWORD_MAX) {
      return fieldError(form, next, `A password of ${PASSWORD_MIN} to ${PASSWORD_MAX} characters.`);
    }
    if (again.value !== next.value) return fieldError(form, again, 'The two new passwords differ.');
    submit.disabled = true;
    try {
      await change(current.value || undefined, next.value);
      for (const input of [current, next, again]) input.value = '';
      status.show('Password changed. Your other sign-ins have ended.');
    } catch (err) {
      if (err.code === 'wrong_password') {
        current.value = '';
        fieldError(form, current, 'This is not your current password.');
      } else if (err.code === 'too_many_requests') {
        error.show(err, { attempts: 'wrong passwords for this account' });
      } else {
        showFieldErrors(form, err, error);
      }
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}
