# Sourced by lint.sh and prism_suite.sh (cwd: this folder). Both run the tools
# with the `node` found first in PATH: Debian 12's own nodejs (18.20.4, what
# scripts/test installs) and Node 20 or later both work.
# ensure_tools checks that node, then installs the pinned npm tools
# (package-lock.json) when node_modules is missing or holds another version of
# one of them (scripts/lib/npm_pinned.sh, as tests/e2e/run.sh).
ensure_tools() {
  command -v node >/dev/null || { echo "error: node is not in PATH" >&2; return 1; }
  # package.json's engines: Prism 5.14 needs 18.20.1 or later, OpenTelemetry
  # (a dependency of Redocly CLI 1.34) ^18.19 or 20.6 and later.
  if ! node -e '
    const [maj, min, pat] = process.versions.node.split(".").map(Number);
    const ok = (maj === 18 && (min > 20 || (min === 20 && pat >= 1)))
      || (maj === 20 && min >= 6) || maj > 20;
    process.exit(ok ? 0 : 1);'; then
    echo "error: $(command -v node) is Node $(node --version); these tools need 18.20.1 or later (18.x), or 20.6 or later" >&2
    return 1
  fi
  source ../../../scripts/lib/npm_pinned.sh
  npm_ci_when_stale @redocly/cli @stoplight/prism-cli @stoplight/prism-http
}
