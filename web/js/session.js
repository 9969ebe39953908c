// Who is using this browser: the bettor's id and token, and the operator's
// admin token, kept in localStorage. The bettor's token is shown once, at
// sign-up, and from then on lives only here.

const USER_KEY = 'betsdb.user';
const ADMIN_KEY = 'betsdb.adminToken';
const IMPORT_KEY = 'betsdb.lastImport';

function read(key) {
  try {
    return JSON.parse(localStorage.getItem(key) ?? 'null');
  } catch {
    return null;
  }
}

function write(key, value) {
  if (value === null || value === undefined) localStorage.removeItem(key);
  else localStorage.setItem(key, JSON.stringify(value));
}

// {id, token, name, email} or null.
export function currentUser() {
  const user = read(USER_KEY);
  return user && Number.isInteger(user.id) && typeof user.token === 'string' ? user : null;
}

export function saveUser({ id, token, name, email }) {
  write(USER_KEY, { id, token, name, email });
}

export function forgetUser() {
  write(USER_KEY, null);
}

export function adminToken() {
  const token = read(ADMIN_KEY);
  return typeof token === 'string' && token ? token : null;
}

export function saveAdminToken(token) {
  write(ADMIN_KEY, token || null);
}

// The last import's matches with their results, so "apply results" still
// works after a reload: [{id, result, label}].
export function lastImport() {
  return read(IMPORT_KEY);
}

export function saveLastImport(value) {
  write(IMPORT_KEY, value);
}
