// A modal question before an action that cannot be undone (a settlement, a
// self-exclusion): what it will do, then an explicit "yes". Cancel has the
// focus, so Enter or a stray tap never confirms. Resolves true or false
// (Cancel, Escape, or the page changed: closeConfirm). One at a time.
import { h, uid } from './dom.js';

let openQuestion = null;

export function closeConfirm() {
  openQuestion?.(false);
}

// lines: each a string, a node or an array of them (one paragraph each);
// body: extra nodes after the lines (e.g. a table of figures).
export function confirmAction({ title, lines = [], body = null, acceptText, cancelText = 'Cancel', className = '' }) {
  closeConfirm();
  const headingId = uid('confirm-title');
  const bodyId = uid('confirm-body');
  const accept = h('button', { type: 'button', class: 'primary danger-fill', text: acceptText });
  const cancel = h('button', { type: 'button', class: 'secondary', text: cancelText });
  const dialog = h(
    'dialog',
    { class: `confirm-dialog ${className}`.trim(), role: 'alertdialog', 'aria-modal': 'true', 'aria-labelledby': headingId, 'aria-describedby': bodyId },
    h('h2', { id: headingId, text: title }),
    h('div', { id: bodyId, class: 'confirm-lines' }, lines.map((line) => h('p', {}, line)), body),
    h('div', { class: 'actions' }, accept, cancel),
  );
  document.body.append(dialog);
  return new Promise((resolve) => {
    let done = false;
    const finish = (answer) => {
      if (done) return;
      done = true;
      if (openQuestion === finish) openQuestion = null;
      if (dialog.open) dialog.close();
      dialog.remove();
      resolve(answer);
    };
    openQuestion = finish;
    accept.addEventListener('click', () => finish(true));
    cancel.addEventListener('click', () => finish(false));
    dialog.addEventListener('cancel', (e) => {
      e.preventDefault();
      finish(false);
    });
    dialog.showModal();
    cancel.focus();
  });
}
