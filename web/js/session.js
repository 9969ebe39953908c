// Who is using this browser: the bettor's id and token, and the operator's
// token (a signed-in operator's session, or the owner's admin token), kept in
// localStorage. A bettor's sign-up token is shown once, at sign-up, and from
// then on lives only here.

const USER_KEY = 'betsdb.user';
const ADMIN_KEY = 'betsdb.adminToken'; // the owner's pasted admin token
const OPERATOR_KEY = 'betsdb.operator'; // an operator's session
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

// A session past its expires_at is as good as gone: the server refuses it.
function expired(expiresAt) {
  return typeof expiresAt === 'string' && Date.parse(expiresAt) <= Date.now();
}

// {id, token, name, email, kind, expiresAt} or null. kind says where the
// token came from: "session" (signed in with a password, expires), "signup"
// (the sign-up token) or "token" (pasted by hand); the last two never expire.
export function currentUser() {
  const user = read(USER_KEY);
  if (!user || !Number.isInteger(user.id) || typeof user.token !== 'string') return null;
  if (expired(user.expiresAt)) {
    forgetUser();
    return null;
  }
  return { kind: 'token', expiresAt: null, ...user };
}

export function saveUser({ id, token, name, email, kind = 'token', expiresAt = null }) {
  write(USER_KEY, { id, token, name, email, kind, expiresAt });
}

export function forgetUser() {
  write(USER_KEY, null);
}

// The operator using this browser: {token, role, id, email, expiresAt} or
// null. role is "admin", "trader" or "support" for a signed-in operator
// (id and email set), "owner" for the configured admin token.
export function currentOperator() {
  const op = read(OPERATOR_KEY);
  if (op && typeof op.token === 'string' && typeof op.role === 'string') {
    if (!expired(op.expiresAt)) return op;
    write(OPERATOR_KEY, null);
  }
  const token = adminToken();
  return token ? { token, role: 'owner', id: null, email: null, expiresAt: null } : null;
}

export function saveOperator({ token, role, id, email, expiresAt }) {
  write(ADMIN_KEY, null);
  write(OPERATOR_KEY, { token, role, id, email, expiresAt });
}

export function forgetOperator() {
  write(OPERATOR_KEY, null);
  write(ADMIN_KEY, null);
}

export function adminToken() {
  const token = read(ADMIN_KEY);
  return typeof token === 'string' && token ? token : null;
}

export function saveAdminToken(token) {
  write(OPERATOR_KEY, null);
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
