// Price changes: what the bettor accepts when the odds move between showing a
// price and placing the bet (API.md Part 2, "Odds versions and price
// changes"), kept in this browser, and the question asked when a price moved.
import { field, h, uid } from './dom.js';

const KEY = 'betsdb.acceptPriceChange';
export const DEFAULT_PRICE_SETTING = 'none';
export const PRICE_SETTINGS = [
  ['any', 'Accept any price change'],
  ['better', 'Accept better prices only'],
  ['none', 'No price changes'],
];

// "none" | "better" | "any"; "none" until the bettor chooses.
export function priceSetting() {
  const value = localStorage.getItem(KEY);
  return PRICE_SETTINGS.some(([v]) => v === value) ? value : DEFAULT_PRICE_SETTING;
}

export function savePriceSetting(value) {
  if (PRICE_SETTINGS.some(([v]) => v === value)) localStorage.setItem(KEY, value);
}

// A labelled <select> for the setting, saved as soon as it changes.
export function priceSettingField() {
  const current = priceSetting();
  const select = h(
    'select',
    { name: 'accept_price_change', 'data-field': 'accept_price_change' },
    PRICE_SETTINGS.map(([value, text]) => h('option', { value, text, selected: value === current })),
  );
  select.addEventListener('change', () => savePriceSetting(select.value));
  return {
    el: field('If the price changes', select, 'When the odds move before your bet is placed.'),
    select,
  };
}

// Asks the bettor, in a modal dialog, whether to go on at the new price(s).
// lines: text per changed selection, e.g. "Arsenal v Chelsea: Draw 3.25 → 3.40".
// Resolves true (accept) or false (cancel, Escape, or the page changed).
let openDialog = null;

export function confirmNewPrices({ title, lines, acceptText, cancelText = 'Cancel' }) {
  closePriceDialog();
  const headingId = uid('price-title');
  const listId = uid('price-list');
  const accept = h('button', { type: 'button', class: 'primary', value: 'accept', text: acceptText });
  const cancel = h('button', { type: 'button', class: 'secondary', value: 'cancel', text: cancelText });
  const dialog = h(
    'dialog',
    { class: 'price-dialog', 'aria-labelledby': headingId, 'aria-describedby': listId },
    h('h2', { id: headingId, text: title }),
    h('ul', { id: listId, class: 'price-changes' }, lines.map((line) => h('li', { text: line }))),
    h('div', { class: 'actions' }, accept, cancel),
  );
  document.body.append(dialog);
  return new Promise((resolve) => {
    let settled = false;
    const finish = (answer) => {
      if (settled) return;
      settled = true;
      if (openDialog?.dialog === dialog) openDialog = null;
      if (dialog.open) dialog.close();
      dialog.remove();
      resolve(answer);
    };
    openDialog = { dialog, finish };
    accept.addEventListener('click', () => finish(true));
    cancel.addEventListener('click', () => finish(false));
    dialog.addEventListener('cancel', (e) => {
      e.preventDefault();
      finish(false);
    });
    dialog.showModal();
    accept.focus();
  });
}

// Closes an open price question as "cancel" (e.g. when the page changes).
export function closePriceDialog() {
  openDialog?.finish(false);
}
