#!/usr/bin/env bash
# The deployment check: README.md's deployment checklist, run the way a stranger deploys.
#
#   scripts/deploy-check.sh            (CI runs it from .ci/run, before `npm ci && npm test`)
#
# What it runs comes from the documents, read by scripts/deploy-plan.cjs: the checklist's commands
# in README order, with the `✅ …` lines the README says to look for, and the Dockerfile's build
# commands, runtime files, CMD and HEALTHCHECK. It works on a fresh `git clone` of this checkout's
# HEAD (commit it first: uncommitted changes are not in the clone), so that no `npm run generate`
# of the tests hides a missing step, and it runs three times, each on a throwaway database and a
# private redis-server of its own:
#   1. clone:      `npm ci`, then the checklist (`npm start`);
#   2. production: in a copy of the clone taken right after `npm ci`, the rest of the production
#                  install (`npm run build`, `npm prune --omit=dev`), a check that no dev-only
#                  package is left, then the checklist (its start: `npm run start:prod`);
#   3. image:      only what the Dockerfile's runtime stage copies, in a directory of its own, as
#                  an unprivileged user when run as root (the image's `USER node`); the checklist
#                  (the CMD, `node dist/main.js`) and the HEALTHCHECK command.
# Each start is checked by scripts/deploy-smoke.mjs (readiness, a lookup, a refused and an
# authorized write, the lookup of what was written), then stopped with SIGTERM, which must exit 0.
# Everything it made (clones, databases, redis-servers, servers) is removed on any exit.
# Needs: git, node/npm, psql and a Postgres that lets TEST_POSTGRES_URL create databases
# (default postgresql://postgres@127.0.0.1:5432/postgres, as the tests), redis-server, setsid.
set -euo pipefail

SOURCE=$(cd "$(dirname "$0")/.." && pwd)
ADMIN_URL=${TEST_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/postgres}
# Its trees hold ~60,000 files. On a disk mounted with `discard` (this project's CI machines),
# writing and removing them took longer than the check itself (rm -rf alone ~2 min of a 5-min run),
# so they go to /dev/shm (tmpfs: memory, ~1 GB at the peak) when it has room; DEPLOY_CHECK_TMPDIR
# chooses another place.
if [ -z "${DEPLOY_CHECK_TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ] &&
  [ "$(df -Pk /dev/shm | awk 'NR == 2 { print $4 }')" -gt 3000000 ]; then
  DEPLOY_CHECK_TMPDIR=/dev/shm
fi
WORK=$(mktemp -d "${DEPLOY_CHECK_TMPDIR:-${TMPDIR:-/tmp}}/barcode-deploy-check.XXXXXX")
T0=$(date +%s.%N)
TOKEN="deploy-check-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
DATABASES=()
PROCESSES=()

say() { printf '[deploy-check %6.1fs] %s\n' "$(awk "BEGIN { print $(date +%s.%N) - $T0 }")" "$*"; }
fail() {
  say "❌ $*"
  exit 1
}

exec 8>&1 9>&2 # the check's own output: a trap can run while a step's output goes to its log
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  exec 1>&8 2>&9
  # Each server and redis-server leads a session of its own (setsid): its whole group goes.
  for pid in "${PROCESSES[@]}"; do
    kill -KILL -- "-$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true # reaped here, so bash does not report it as killed
  done
  for db in "${DATABASES[@]}"; do
    psql -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 ||
      echo "deploy-check: could not drop database $db" >&2
  done
  say "cleanup: processes and databases gone"
  rm -rf "$WORK"
  say "cleanup: $WORK removed"
  if [ "$status" -eq 0 ]; then say "✅ deployment check passed"; else say "❌ deployment check failed"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  node -e 'const s = require("node:net").createServer().listen(0, "127.0.0.1", () => {
    console.log(s.address().port); s.close(); });'
}

# A throwaway database and a private redis-server; sets DATABASE_URL and REDIS_URL.
services_for() {
  local half=$1 port pid
  local db="bc_deploy_${half}_$(od -An -N5 -tx1 /dev/urandom | tr -d ' \n')"
  DATABASES+=("$db")
  psql -q "$ADMIN_URL" -c "CREATE DATABASE \"$db\"" >/dev/null
  DATABASE_URL=$(node -e 'const u = new URL(process.argv[1]); u.pathname = "/" + process.argv[2];
    console.log(u.toString())' "$ADMIN_URL" "$db")
  for _ in 1 2 3 4 5; do # a port taken between free_port and bind: try another
    port=$(free_port)
    # Bounded and evicting, as preflight asks of a production Redis.
    setsid redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
      --maxmemory 64mb --maxmemory-policy allkeys-lru --dir "$WORK" --logfile "$WORK/redis-$half.log" &
    pid=$!
    PROCESSES+=("$pid")
    for _ in $(seq 1 50); do
      redis-cli -p "$port" ping >/dev/null 2>&1 && break
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null && redis-cli -p "$port" ping >/dev/null 2>&1; then
      REDIS_URL="redis://127.0.0.1:$port"
      say "$half: database $db, redis-server on port $port"
      return 0
    fi
  done
  fail "$half: could not start a redis-server"
}

# The environment of the installs: nothing of the checklist's yet (README order). With
# NODE_ENV=production already set, `npm ci` would leave the devDependencies out (npm's default
# then), and nothing could build. npm's cache is reused and not revalidated, to keep it quick.
install_env() {
  ENVIRONMENT=(PATH="$PATH" HOME="$RUN_HOME" NPM_CONFIG_CACHE="$NPM_CACHE" NPM_CONFIG_PREFER_OFFLINE=true
    NPM_CONFIG_AUDIT=false NPM_CONFIG_FUND=false NPM_CONFIG_UPDATE_NOTIFIER=false)
}

# The environment of every checklist command: the installs' plus what the checklist's item 1 sets.
checklist_env() {
  install_env
  ENVIRONMENT+=(NODE_ENV=production API_TOKEN="$TOKEN" DATABASE_URL="$DATABASE_URL"
    REDIS_URL="$REDIS_URL" HOST=127.0.0.1 PORT="$PORT" LOG_LEVEL=info)
}

# Starts one command in a directory, as RUN_AS (empty: this user), with ENVIRONMENT only, in a
# session of its own (cleanup kills the whole group); SPAWNED is its pid.
spawn_in_dir() {
  local dir=$1
  shift
  # shellcheck disable=SC2086 # RUN_AS's prefix is several words
  (cd "$dir" && exec setsid env -i "${ENVIRONMENT[@]}" \
    ${RUN_AS:+setpriv --reuid="$RUN_AS" --regid="$RUN_AS" --clear-groups} "$@" </dev/null) &
  SPAWNED=$!
  PROCESSES+=("$SPAWNED")
}

# The same, waited for with `wait`, which a signal interrupts: bash runs a trap only after a
# foreground command has finished (a build: 45 s), and Ctrl-C must not wait for that.
in_dir() {
  spawn_in_dir "$@"
  wait "$SPAWNED"
}

run_step() { # half dir command expect
  local half=$1 dir=$2 command=$3 expect=$4 log
  log="$WORK/$half-$(echo "$command" | tr -c 'a-z0-9' '-').log"
  # shellcheck disable=SC2086 # the README's command, split into words as a shell would
  if ! in_dir "$dir" $command >"$log" 2>&1; then
    tail -n 30 "$log"
    fail "$half: $command exited non-zero (output above)"
  fi
  if [ -n "$expect" ] && ! grep -qF -- "$expect" "$log"; then
    tail -n 30 "$log"
    fail "$half: $command did not print '$expect' (output above)"
  fi
  say "$half: ✅ $command${expect:+ (printed '$expect')}"
  grep -E '^(✅|⚠️|❌)' "$log" | sed 's/^/      /' || true
}

start_step() { # half dir command expect healthcheck
  local half=$1 dir=$2 command=$3 expect=$4 healthcheck=$5 log pid status
  log="$WORK/$half-server.log"
  # shellcheck disable=SC2086
  spawn_in_dir "$dir" $command >"$log" 2>&1
  pid=$SPAWNED
  if ! node "$CLONE/scripts/deploy-smoke.mjs" "http://127.0.0.1:$PORT" "$TOKEN" | sed 's/^/      /'; then
    tail -n 30 "$log"
    fail "$half: $command: the requests failed (server output above)"
  fi
  if [ -n "$expect" ] && ! grep -qF -- "$expect" "$log"; then
    tail -n 30 "$log"
    fail "$half: $command did not log '$expect' (output above)"
  fi
  if [ -n "$healthcheck" ]; then
    # shellcheck disable=SC2086
    in_dir "$dir" $healthcheck || fail "$half: HEALTHCHECK '$healthcheck' failed while the server ran"
    say "$half: ✅ HEALTHCHECK $healthcheck exits 0 while the server runs"
  fi
  kill -TERM "$pid"
  status=0
  wait "$pid" || status=$?
  [ "$status" -eq 0 ] || {
    tail -n 30 "$log"
    fail "$half: $command exited $status after SIGTERM, expected 0"
  }
  say "$half: ✅ $command: ready, answered, logged '$expect', exited 0 on SIGTERM"
  if [ -n "$healthcheck" ]; then
    # shellcheck disable=SC2086
    ! in_dir "$dir" $healthcheck 2>/dev/null || fail "$half: HEALTHCHECK still passes with the server stopped"
    say "$half: ✅ HEALTHCHECK exits non-zero once the server is gone"
  fi
}

run_checklist() { # half dir start-command [healthcheck]
  local half=$1 dir=$2 start=$3 healthcheck=${4:-}
  services_for "$half"
  PORT=$(free_port)
  checklist_env
  local kind command expect
  while IFS=$'\t' read -r -u 3 kind command expect; do
    [ "$kind" = step ] || continue
    if [ "$command" = "npm start" ]; then
      start_step "$half" "$dir" "$start" "$expect" "$healthcheck"
    else
      run_step "$half" "$dir" "$command" "$expect"
    fi
  done 3<<<"$PLAN"
}

# No package that the lockfile marks dev-only is installed; the dev ones npm keeps are named.
dev_packages_gone() {
  node -e '
    const { existsSync } = require("node:fs");
    const lock = require(process.argv[1] + "/package-lock.json");
    const entries = Object.entries(lock.packages).filter(([key]) => key.startsWith("node_modules/"));
    const left = entries.filter(([key, p]) => p.dev && existsSync(process.argv[1] + "/" + key));
    const kept = entries.filter(([key, p]) => p.devOptional && existsSync(process.argv[1] + "/" + key));
    if (left.length) { console.error("dev-only packages left: " + left.map(([k]) => k).join(", ")); process.exit(1); }
    const pkg = require(process.argv[1] + "/package.json");
    const direct = Object.keys(pkg.devDependencies).filter((name) => kept.some(([k]) => k === "node_modules/" + name));
    console.log(`${entries.filter(([, p]) => p.dev).length} dev-only packages absent (tsx, jest, ` +
      `@graphql-codegen/cli among them); kept because a dependency names them as optional peers ` +
      `(devOptional): ${direct.join(", ")} and ${kept.length - direct.length} packages they need`);
  ' "$1"
}

# --- the plan, the clone and its install ---------------------------------------------------------
CLONE="$WORK/clone"
RUN_HOME=$HOME
NPM_CACHE=$(npm config get cache) # this user's npm cache: reused, not refilled
say "cloning $SOURCE (HEAD $(git -C "$SOURCE" rev-parse --short HEAD)) into $WORK"
git clone --quiet --no-hardlinks "$SOURCE" "$CLONE"
PLAN=$(node "$CLONE/scripts/deploy-plan.cjs") || fail "README.md and the Dockerfile do not give a plan"
say "plan from README.md and Dockerfile:"
while IFS=$'\t' read -r kind command expect; do
  printf '      %-18s %s%s\n' "$kind" "$command" "${expect:+   → expects '$expect'}"
done <<<"$PLAN"
plan_values() { awk -F'\t' -v kind="$1" '$1 == kind { print $2 }' <<<"$PLAN"; }

PRODUCTION_START=$(plan_values production-start)
RUNTIME_CMD=$(plan_values runtime-cmd)
HEALTHCHECK=$(plan_values healthcheck)
CLONE_INSTALL=$(plan_values clone-install)
mapfile -t PRODUCTION_INSTALL < <(plan_values production-install)
[ "${PRODUCTION_INSTALL[0]}" = "$CLONE_INSTALL" ] ||
  fail "the production install must start with the clone's install ($CLONE_INSTALL)"

install_env
say "clone: $CLONE_INSTALL"
started=$(date +%s)
# shellcheck disable=SC2086
in_dir "$CLONE" $CLONE_INSTALL >"$WORK/npm-ci.log" 2>&1 || {
  tail -n 30 "$WORK/npm-ci.log"
  fail "$CLONE_INSTALL failed"
}
say "clone: ✅ $CLONE_INSTALL ($(($(date +%s) - started)) s)"
# The production half starts from exactly what `npm ci` left, before any checklist command built:
# a copy of hard links (instant, no data copied). Nothing writes into an installed file in place
# before the production half starts; the fingerprint below would tell.
cp -al "$CLONE" "$WORK/production"
fingerprint() { (cd "$1" && find node_modules -printf '%P %s %T@\n' | sort | sha256sum); }
INSTALLED=$(fingerprint "$WORK/production")

# --- 1. the clone ------------------------------------------------------------------------------------
run_checklist clone "$CLONE" "npm start"

# --- 2. the production install ---------------------------------------------------------------------
PRODUCTION="$WORK/production"
[ "$(fingerprint "$PRODUCTION")" = "$INSTALLED" ] || fail "production: node_modules changed since npm ci"
say "production: node_modules as npm ci left it (same files, sizes and times)"
install_env
for command in "${PRODUCTION_INSTALL[@]:1}"; do
  started=$(date +%s)
  # shellcheck disable=SC2086
  in_dir "$PRODUCTION" $command >"$WORK/production-install.log" 2>&1 || {
    tail -n 30 "$WORK/production-install.log"
    fail "production: $command failed"
  }
  say "production: ✅ $command ($(($(date +%s) - started)) s)"
done
kept=$(dev_packages_gone "$PRODUCTION") || fail "production: npm prune --omit=dev left dev-only packages"
say "production: ✅ $kept"
! (cd "$PRODUCTION" && node -e 'require.resolve("tsx")' 2>/dev/null) || fail "production: tsx resolves"
run_checklist production "$PRODUCTION" "$PRODUCTION_START"

# --- 3. the image's runtime layout --------------------------------------------------------------------
IMAGE="$WORK/image"
while read -r file; do # moved, not copied: the production half is done with them
  mkdir -p "$IMAGE/$(dirname "$file")"
  mv "$PRODUCTION/$file" "$IMAGE/$file"
done < <(plan_values runtime-copy)
say "image: laid out the runtime stage's COPY lines: $(plan_values runtime-copy | tr '\n' ' ')"
RUN_AS=''
if [ "$(id -u)" -eq 0 ]; then
  # As the image's USER: another uid than the files' owner, so nothing in the app can be written.
  RUN_AS=65534
  RUN_HOME="$WORK/home-unprivileged"
  mkdir -p "$RUN_HOME" && chown "$RUN_AS:$RUN_AS" "$RUN_HOME"
  chmod 755 "$WORK"
  NPM_CACHE="$RUN_HOME/.npm"
  say "image: running as uid $RUN_AS (nobody), the app's files owned by root"
fi
run_checklist image "$IMAGE" "$RUNTIME_CMD" "$HEALTHCHECK"
say "total $(awk "BEGIN { printf \"%.0f\", $(date +%s.%N) - $T0 }") s"
