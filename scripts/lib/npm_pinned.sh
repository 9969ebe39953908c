# Sourced by the test folders that use npm tools (tests/e2e/run.sh,
# tests/conformance/openapi/tools.sh). Not executed.
# shellcheck shell=bash

# npm_ci_when_stale PKG...: in the current folder, `npm ci` when any of the
# named packages is missing from node_modules or is another version than
# package-lock.json pins, so a run after a version bump never uses the old one
# and a run with nothing changed installs nothing.
npm_ci_when_stale() {
  local pkg want have stale=0
  for pkg in "$@"; do
    want=$(node -p "require('./package-lock.json').packages['node_modules/$pkg'].version")
    have=$(node -p "require('./node_modules/$pkg/package.json').version" 2>/dev/null || true)
    [[ "$want" == "$have" ]] || stale=1
  done
  if ((stale)); then
    echo "==> npm ci ($(basename "$PWD"))" >&2
    npm ci --no-audit --no-fund --loglevel=error >&2
  fi
}
