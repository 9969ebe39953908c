// What each operator role may do (the role table of API.md Part 2, "Accounts
// and access"). The server enforces it; the operator pages use it only so
// that they never offer what the server would refuse.
//   trade:      create, change, suspend, resume and settle matches; exposure
//   read_users: look users up, their bets and ledgers
//   all_bets:   the list of all bets
//   summary:    the betting summary
//   deposit:    credit an account
//   operators:  create operators
//   audit:      read the audit log
const EVERYTHING = ['trade', 'read_users', 'all_bets', 'summary', 'deposit', 'operators', 'audit'];

const ROLES = {
  owner: EVERYTHING, // the configured admin token
  admin: EVERYTHING,
  trader: ['trade'],
  support: ['read_users', 'all_bets'],
};

export const OPERATOR_ROLES = ['admin', 'trader', 'support'];

export function can(role, capability) {
  return (ROLES[role] ?? []).includes(capability);
}

export const ROLE_LABELS = { owner: 'owner (admin token)', admin: 'admin', trader: 'trader', support: 'support' };
