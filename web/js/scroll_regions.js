// A table wider than the screen scrolls sideways in its .table-holder. While
// it does, the holder takes the keyboard focus (so arrow keys scroll it) and
// is a named region (WCAG 2.1.1; axe's scrollable-region-focusable); when it
// fits, it is neither, so it adds no needless tab stop. Watches the page
// once, for every view.

function nameOf(holder) {
  const table = holder.querySelector('table');
  const caption = table?.querySelector('caption')?.textContent.trim() || table?.getAttribute('aria-label');
  if (caption) return caption;
  // The nearest heading before it, e.g. "Latest bets (3 in all)".
  for (let node = holder; node && node !== document.body; node = node.parentElement) {
    for (let prev = node.previousElementSibling; prev; prev = prev.previousElementSibling) {
      if (/^H[1-6]$/.test(prev.tagName)) return prev.textContent.trim();
    }
  }
  return 'Table';
}

function update(holder) {
  const scrolls = holder.scrollWidth > holder.clientWidth + 1;
  if (scrolls && !holder.hasAttribute('tabindex')) {
    holder.setAttribute('tabindex', '0');
    holder.setAttribute('role', 'region');
    holder.setAttribute('aria-label', `${nameOf(holder)} (scrolls sideways)`);
    holder.dataset.scrolls = 'true';
  } else if (!scrolls && holder.dataset.scrolls) {
    holder.removeAttribute('tabindex');
    holder.removeAttribute('role');
    holder.removeAttribute('aria-label');
    delete holder.dataset.scrolls;
  }
}

export function watchScrollRegions(root = document.body) {
  const sizes = new ResizeObserver((entries) => {
    for (const entry of entries) update(entry.target);
  });
  const watched = new WeakSet();
  const scan = () => {
    for (const holder of root.querySelectorAll('.table-holder')) {
      if (watched.has(holder)) {
        update(holder);
        continue;
      }
      watched.add(holder);
      sizes.observe(holder);
      update(holder);
    }
  };
  // Content changes (a page of rows arrives) as well as size changes.
  let queued = false;
  new MutationObserver(() => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => {
      queued = false;
      scan();
    });
  }).observe(root, { childList: true, subtree: true });
  scan();
}
