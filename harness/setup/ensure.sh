#!/usr/bin/env bash
# adaptbench set-up. `npm run setup`, `npm test`, `npm run bench`, `npm run bench:all` run it first.
# Idempotent: on a machine that is already set up it prints nothing and takes a second or two
# (plus an incremental tsc). When it has work to do it prints one plain line per step.
#
#   a. Debian packages (only those missing): build tools, canvas's libraries, faiss and OpenBLAS,
#      chromium (the browser test of the HTML report).
#   b. `npm ci --ignore-scripts` when node_modules is missing or package-lock.json / this script
#      changed (a stamp under node_modules/ holds their hash). Nothing unpinned is installed.
#   c. Native builds, each only when its stamp is stale or the module does not load:
#      canvas and hnswlib-node (their own scripts, node-gyp), faiss-node (cmake-js against Debian's
#      libfaiss, helper files in harness/setup/faiss/), and our BLAS addon harness/engine/native/
#      (node-gyp; a failure there is only a warning: the engine has a slower fallback).
#      @tensorflow/tfjs-node(-gpu) stay without their native library: their install script
#      downloads libtensorflow, which needs the internet.
#   d. TypeScript: tsc -p tsconfig.json (incremental), every time.
#
# Exit status: 0 ready; 2 something is missing or failed to build (the message says how to fix it).
# Options: --force rebuilds every native module. Logs: /tmp/adaptbench-setup-<uid>-<hash of the
# checkout's path>/ (or $ADAPTBENCH_SETUP_LOGS).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"

FORCE=0
for arg in "$@"; do
  case $arg in
    --force) FORCE=1 ;;
    -h|--help) sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup: unknown option: $arg (use --force or --help)" >&2; exit 2 ;;
  esac
done

SETUP_START=$SECONDS
WORKED=0
say()  { echo "setup: $*"; WORKED=1; }
warn() { echo "setup: warning: $*" >&2; }
die()  { echo "setup: error: $*" >&2; exit 2; }
have() { command -v "$1" >/dev/null 2>&1; }

# Logs and the lock live outside the checkout (npm ci wipes node_modules), one set per checkout.
TAG=$(id -u)-$(printf '%s' "$ROOT" | sha256sum | cut -c1-8)
LOGS=${ADAPTBENCH_SETUP_LOGS:-${TMPDIR:-/tmp}/adaptbench-setup-$TAG}
mkdir -p "$LOGS"
# run_logged NAME CMD...: runs CMD with its output in $LOGS/NAME.log; on failure shows the log's tail.
run_logged() {
  local name=$1; shift
  local log="$LOGS/$name.log"
  "$@" >"$log" 2>&1 && return 0
  local rc=$?
  echo "setup: '$*' failed (exit $rc); its errors and last lines (full log: $log):" >&2
  { grep -iE '(^|[^a-z])(error|fatal|not found)' "$log" | head -n 15; echo '  ...'; tail -n 8 "$log"; } \
    | sed 's/^/  | /' >&2
  return $rc
}
hash_files() { cat "$@" | sha256sum | cut -c1-64; }

have node || die "node is not on PATH. Install Node.js 20 (for example the nodejs package from NodeSource)."
read -r NODE_VERSION NODE_ABI NODE_ARCH < <(node -p 'process.versions.node + " " + process.versions.modules + " " + process.arch')
[[ ${NODE_VERSION%%.*} -ge 20 ]] || die "Node.js >= 20 is needed, this is $NODE_VERSION."
have npm || die "npm is not on PATH (it comes with Node.js)."

# One set-up at a time per checkout (npm test and a bench started together).
if have flock; then
  exec 9>"${TMPDIR:-/tmp}/adaptbench-setup-$TAG.lock"
  flock 9
fi

# ---------------------------------------------------------------- a. Debian packages
APT_LIBS=(
  libcairo2-dev libpango1.0-dev libjpeg-dev libgif-dev librsvg2-dev  # canvas (chartjs-node-canvas)
  fonts-dejavu-core                                                  # text in PNG charts
  libfaiss-dev libopenblas-dev patchelf                              # faiss-node, our BLAS addon
  chromium                                                           # browser test of report.html (headless)
)
missing=()
for tool in g++ make python3 pkg-config; do have "$tool" || missing+=("$tool"); done
# faiss's helper CMakeLists.txt needs CMake >= 3.24 (CMAKE_FIND_PACKAGE_TARGETS_GLOBAL).
cmake_ok=0
if have cmake; then
  cmake_v=$(cmake --version | sed -n '1s/[^0-9]*\([0-9][0-9]*\)\.\([0-9][0-9]*\).*/\1 \2/p')
  read -r cmj cmn <<<"${cmake_v:-0 0}"
  if (( cmj > 3 || (cmj == 3 && cmn >= 24) )); then cmake_ok=1; fi
fi
(( cmake_ok )) || missing+=(cmake)
if have dpkg-query; then
  installed=$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "${APT_LIBS[@]}" 2>/dev/null || true)
  for p in "${APT_LIBS[@]}"; do
    grep -q "^$p ii" <<<"$installed" || missing+=("$p")
  done
  if (( ${#missing[@]} )); then
    if [[ $(id -u) -eq 0 ]]; then
      SUDO=()
    elif have sudo && sudo -n true 2>/dev/null; then
      SUDO=(sudo -n)
    elif have sudo && [[ -t 0 ]]; then
      SUDO=(sudo)
    else
      die "these Debian packages are missing: ${missing[*]}
  Run as root:  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}
  then run this again (npm run setup)."
    fi
    say "installing Debian packages: ${missing[*]}"
    t0=$SECONDS
    run_logged apt-update "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q \
      || die "apt-get update failed (see above)."
    run_logged apt-install "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -q --no-install-recommends "${missing[@]}" \
      || die "apt-get install failed (see above). Packages: ${missing[*]}"
    say "Debian packages installed ($((SECONDS - t0)) s)"
  fi
else
  if (( ${#missing[@]} )); then
    die "not a Debian-like system (no dpkg-query) and these are missing: ${missing[*]}"
  fi
  warn "not a Debian-like system: make sure the equivalents of ${APT_LIBS[*]} are installed."
fi

# ---------------------------------------------------------------- b. npm ci
STATE=node_modules/.adaptbench
NPM_KEY=$(hash_files package-lock.json harness/setup/ensure.sh)
if [[ ! -f node_modules/.package-lock.json || "$(cat "$STATE/npm.stamp" 2>/dev/null)" != "$NPM_KEY" ]]; then
  say "npm ci --ignore-scripts (node_modules missing or package-lock.json changed)"
  t0=$SECONDS
  run_logged npm-ci npm ci --ignore-scripts --include=dev --include=optional --no-audit --no-fund \
    || die "npm ci failed (see above). Is package-lock.json in sync with package.json?"
  mkdir -p "$STATE"
  echo "$NPM_KEY" >"$STATE/npm.stamp"
  say "npm ci done ($((SECONDS - t0)) s)"
fi

# ---------------------------------------------------------------- c. native builds
NATIVE_DIR=harness/engine/native
NATIVE_KEY=$(printf '%s %s %s %s %s\n' "$NPM_KEY" "$NODE_VERSION" "$NODE_ABI" "$NODE_ARCH" \
  "$(hash_files harness/setup/faiss/CMakeLists.txt harness/setup/faiss/faiss_idx_t_compat.h)" | sha256sum | cut -c1-64)
ADDON_KEY=
if [[ -f $NATIVE_DIR/binding.gyp ]]; then
  ADDON_KEY=$( { echo "$NODE_VERSION $NODE_ABI $NODE_ARCH"; cat harness/setup/ensure.sh;
    find "$NATIVE_DIR" -path "$NATIVE_DIR/build" -prune -o -type f -print | LC_ALL=C sort | while read -r f; do
      echo "$f"; cat "$f"; done; } | sha256sum | cut -c1-64)
fi
ADDON_STAMP=$NATIVE_DIR/build/.adaptbench.stamp
addon_file() { compgen -G "$NATIVE_DIR/build/Release/*.node" | head -n 1; }

# load_failures SPEC...: prints "SPEC<TAB>error" for each module that does not load.
load_failures() {
  (( $# )) || return 0
  node -e '
    const r = require("node:module").createRequire(process.cwd() + "/");
    for (const spec of process.argv.slice(1)) {
      try { r(spec); } catch (e) { console.log(spec + "\t" + String((e && e.message) || e).split("\n")[0]); }
    }' "$@"
}

NEEDS=()
if (( FORCE )); then
  NEEDS=(canvas hnswlib-node faiss-node)
else
  check=()
  for m in canvas hnswlib-node faiss-node; do
    if [[ "$(cat "$STATE/native-$m.stamp" 2>/dev/null)" == "$NATIVE_KEY" ]]; then check+=("$m"); else NEEDS+=("$m"); fi
  done
  while IFS=$'\t' read -r spec _; do [[ -n $spec ]] && NEEDS+=("$spec"); done < <(load_failures "${check[@]}")
fi
ADDON_BUILD=0
a_status=none
if [[ -n $ADDON_KEY ]]; then
  read -r a_status a_key < <(cat "$ADDON_STAMP" 2>/dev/null || echo "none none")
  if (( FORCE )) || [[ $a_key != "$ADDON_KEY" ]]; then
    ADDON_BUILD=1
  elif [[ $a_status == ok ]]; then
    f=$(addon_file || true)
    if [[ -z $f ]] || [[ -n "$(load_failures "$ROOT/$f")" ]]; then ADDON_BUILD=1; fi
  fi
fi

NODEDIR=
find_nodedir() {
  # node-gyp needs Node's headers; offline it cannot download them. Use a local copy whose version
  # matches this node: npm's nodedir setting, or the include/node/ beside the node binary.
  local cfg=${npm_config_nodedir:-}
  [[ -n $cfg ]] || cfg=$(npm config get nodedir 2>/dev/null || true)
  [[ $cfg == undefined || $cfg == null ]] && cfg=
  local prefix; prefix=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")
  local d h v
  for d in "$cfg" "$prefix"; do
    h=$d/include/node/node_version.h
    [[ -n $d && -f $h ]] || continue
    v=$(awk '/define NODE_(MAJOR|MINOR|PATCH)_VERSION /{printf "%s%s", sep, $3; sep="."}' "$h")
    if [[ $v == "$NODE_VERSION" ]]; then NODEDIR=$d; return 0; fi
  done
  if [[ -f ${HOME:-/root}/.cache/node-gyp/$NODE_VERSION/include/node/node_version.h ]]; then return 0; fi
  warn "no Node.js $NODE_VERSION headers found (checked npm's nodedir and $prefix/include/node);
  node-gyp will try to download them, which fails offline. Fix: install the headers that match
  your node (NodeSource's nodejs package ships them in /usr/include/node) or set npm's nodedir."
}

if (( ${#NEEDS[@]} || ADDON_BUILD )); then
  find_nodedir
  if [[ -n $NODEDIR ]]; then export npm_config_nodedir=$NODEDIR; fi
  export JOBS=max
  mkdir -p "$STATE"
fi

gyp_needs=()
for m in "${NEEDS[@]}"; do [[ $m == canvas || $m == hnswlib-node ]] && gyp_needs+=("$m"); done
if (( ${#gyp_needs[@]} )); then
  say "building ${gyp_needs[*]} (node-gyp, about half a minute)"
  t0=$SECONDS
  # canvas's install script tries a prebuilt download first; offline that fails at once and it
  # falls back to node-gyp rebuild. hnswlib-node has no script: npm runs node-gyp rebuild.
  run_logged npm-rebuild npm rebuild "${gyp_needs[@]}" --ignore-scripts=false --foreground-scripts \
    || die "building ${gyp_needs[*]} failed (see above). canvas needs: apt-get install
  libcairo2-dev libpango1.0-dev libjpeg-dev libgif-dev librsvg2-dev g++ make python3 pkg-config."
  for m in "${gyp_needs[@]}"; do echo "$NATIVE_KEY" >"$STATE/native-$m.stamp"; done
  say "built ${gyp_needs[*]} ($((SECONDS - t0)) s)"
fi

for m in "${NEEDS[@]}"; do
  [[ $m == faiss-node ]] || continue
  say "building faiss-node against Debian's libfaiss (cmake-js)"
  t0=$SECONDS
  fdir=node_modules/faiss-node
  [[ -f node_modules/cmake-js/bin/cmake-js ]] || die "node_modules/cmake-js is missing: run npm ci (it is a devDependency)."
  mkdir -p "$fdir/deps/faiss"
  cp harness/setup/faiss/CMakeLists.txt harness/setup/faiss/faiss_idx_t_compat.h "$fdir/deps/faiss/"
  rm -rf "$fdir/build"
  run_logged faiss-node node node_modules/cmake-js/bin/cmake-js compile -d "$fdir" \
      --parallel "$(nproc 2>/dev/null || echo 2)" \
    || die "building faiss-node failed (see above). It needs: apt-get install libfaiss-dev
  libopenblas-dev patchelf cmake g++ make."
  echo "$NATIVE_KEY" >"$STATE/native-faiss-node.stamp"
  say "built faiss-node ($((SECONDS - t0)) s)"
done

# Every required native module must load now.
if (( ${#NEEDS[@]} )); then
  fails=$(load_failures "${NEEDS[@]}")
  if [[ -n $fails ]]; then
    for m in "${NEEDS[@]}"; do rm -f "$STATE/native-$m.stamp"; done
    die "built, but these do not load:
$(sed 's/^/  /' <<<"$fails")"
  fi
fi

# Our BLAS addon (written in harness/engine/native/): optional, the engine has a slower fallback.
if [[ -z $ADDON_KEY ]]; then
  echo "setup: note: $NATIVE_DIR/binding.gyp does not exist yet: BLAS addon skipped"
elif (( ADDON_BUILD )); then
  say "building the BLAS addon ($NATIVE_DIR, node-gyp)"
  t0=$SECONDS
  gyp=
  npm_js=$(readlink -f "$(command -v npm)")
  for c in "$(dirname "$npm_js")/../node_modules/node-gyp/bin/node-gyp.js" \
           "$(dirname "$(command -v npm)")/../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js" \
           node_modules/node-gyp/bin/node-gyp.js; do
    if [[ -f $c ]]; then gyp=$c; break; fi
  done
  gyp_cmd=()
  if [[ -n $gyp ]]; then gyp_cmd=(node "$gyp"); elif have node-gyp; then gyp_cmd=(node-gyp); fi
  if (( ${#gyp_cmd[@]} == 0 )); then
    warn "node-gyp not found (it comes with npm): BLAS addon not built; the engine uses its slower path."
    mkdir -p "$NATIVE_DIR/build"; echo "failed $ADDON_KEY" >"$ADDON_STAMP"
  elif run_logged blas-addon "${gyp_cmd[@]}" rebuild --directory="$NATIVE_DIR" --jobs=max \
         ${NODEDIR:+--nodedir="$NODEDIR"} \
       && f=$(addon_file) && [[ -n $f ]] && [[ -z "$(load_failures "$ROOT/$f")" ]]; then
    echo "ok $ADDON_KEY" >"$ADDON_STAMP"
    say "built the BLAS addon: $f ($((SECONDS - t0)) s)"
  else
    warn "the BLAS addon in $NATIVE_DIR did not build or load (log: $LOGS/blas-addon.log);
  the engine falls back to its slower path. Needs: apt-get install libopenblas-dev g++ make python3."
    mkdir -p "$NATIVE_DIR/build"; echo "failed $ADDON_KEY" >"$ADDON_STAMP"
  fi
elif [[ $a_status == failed ]]; then
  echo "setup: warning: the BLAS addon ($NATIVE_DIR) failed to build earlier; the engine uses its slower path (log: $LOGS/blas-addon.log)" >&2
fi

# ---------------------------------------------------------------- d. TypeScript
if (( WORKED )); then say "compiling TypeScript (tsc)"; fi
if ! node node_modules/typescript/bin/tsc -p tsconfig.json >"$LOGS/tsc.log" 2>&1; then
  sed 's/^/  /' "$LOGS/tsc.log" | head -n 60 >&2
  die "TypeScript compilation failed (errors above; full log: $LOGS/tsc.log)."
fi
if (( WORKED )); then say "ready ($((SECONDS - SETUP_START)) s)"; fi
