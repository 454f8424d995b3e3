#!/usr/bin/env bash
#
# Build mediasoup-worker against the Debian/Ubuntu system libraries, without
# internet access (apt and PyPI only), and cache the binary by
# <mediasoup version>-<sha256 of the patch series>.
#
# Usage: media/worker-build/build.sh [options]
#
#   --mediasoup-dir DIR  installed mediasoup package to build the worker of
#                        (default: $SQUARED_MEDIASOUP_DIR, else
#                        <project>/node_modules/mediasoup)
#   --no-install         only fill the cache; don't copy the binary to
#                        <mediasoup>/worker/out/Release/mediasoup-worker
#   --force              rebuild even if the cache already has the binary
#   --no-apt             never run apt-get; fail if a package is missing
#   --print-key          print the cache key and exit
#   -h, --help           this text
#
# Environment:
#   SQUARED_MEDIASOUP_CACHE   cache root (default ~/.cache/squared/mediasoup-worker)
#   SQUARED_MEDIASOUP_WORKER_BUILD=skip   do nothing (e.g. the upstream
#                             prebuilt worker is used instead)
#   SQUARED_MESON_VERSION     meson from PyPI (default 1.12.1)
#   SQUARED_NINJA_VERSION     ninja from PyPI (default 1.13.2)
#   SQUARED_BUILD_JOBS        parallel compile jobs (default: nproc)
#   PYTHON                    python3 used for the meson venv (default /usr/bin/python3)
#
# On success the path of the cached binary is printed on stdout; everything
# else goes to stderr. Running it again is a no-op (cache hit).

set -Eeuo pipefail

readonly PATCHED_FOR_VERSION="3.27.1"
readonly REQUIRED_PACKAGES=(
	pkg-config g++ patch
	libuv1-dev libssl-dev libsrtp2-dev libabsl-dev
	libflatbuffers-dev flatbuffers-compiler
	python3 python3-venv
)

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
project_root="$(cd "$here/../.." && pwd)"
patch_dir="$here/patches"

log() { printf '[mediasoup-worker-build] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
trap 'log "failed at line $LINENO: $BASH_COMMAND"' ERR

mediasoup_dir="${SQUARED_MEDIASOUP_DIR:-$project_root/node_modules/mediasoup}"
do_install=1
force=0
use_apt=1
print_key=0

while [[ $# -gt 0 ]]; do
	case "$1" in
		--mediasoup-dir) mediasoup_dir="${2:?--mediasoup-dir needs a value}"; shift 2 ;;
		--mediasoup-dir=*) mediasoup_dir="${1#*=}"; shift ;;
		--no-install) do_install=0; shift ;;
		--force) force=1; shift ;;
		--no-apt) use_apt=0; shift ;;
		--print-key) print_key=1; shift ;;
		-h|--help) sed -n '3,/^$/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
		*) die "unknown argument: $1 (see --help)" ;;
	esac
done

if [[ "${SQUARED_MEDIASOUP_WORKER_BUILD:-}" == "skip" ]]; then
	log "SQUARED_MEDIASOUP_WORKER_BUILD=skip, nothing to do"
	exit 0
fi
# npm runs the root postinstall even for `npm install --package-lock-only`,
# where node_modules is not populated.
if [[ "${npm_config_package_lock_only:-}" == "true" ]]; then
	log "npm --package-lock-only, nothing to do"
	exit 0
fi

cache_root="${SQUARED_MEDIASOUP_CACHE:-$HOME/.cache/squared/mediasoup-worker}"
meson_version="${SQUARED_MESON_VERSION:-1.12.1}"
ninja_version="${SQUARED_NINJA_VERSION:-1.13.2}"
jobs="${SQUARED_BUILD_JOBS:-$(nproc)}"
python="${PYTHON:-/usr/bin/python3}"

# --- what to build ---------------------------------------------------------

[[ -f "$mediasoup_dir/package.json" && -d "$mediasoup_dir/worker" ]] ||
	die "no mediasoup package at $mediasoup_dir (run 'npm ci' first, or pass --mediasoup-dir)"
mediasoup_dir="$(cd "$mediasoup_dir" && pwd)"

# Read "version" without needing node or python yet.
mediasoup_version="$(sed -n 's/^[[:space:]]*"version"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' \
	"$mediasoup_dir/package.json" | head -n 1)"
[[ -n "$mediasoup_version" ]] || die "cannot read the version of $mediasoup_dir/package.json"

shopt -s nullglob
patches=("$patch_dir"/[0-9][0-9][0-9][0-9]-*.patch)
shopt -u nullglob
[[ ${#patches[@]} -gt 0 ]] || die "no patches in $patch_dir"

# The key covers the patch file names and contents, in series order.
patch_hash="$(for p in "${patches[@]}"; do
	printf '%s\n' "$(basename "$p")"
	cat "$p"
done | sha256sum | cut -c1-16)"
key="${mediasoup_version}-${patch_hash}"

if [[ $print_key -eq 1 ]]; then
	printf '%s\n' "$key"
	exit 0
fi

cache_dir="$cache_root/$key"
cached_bin="$cache_dir/mediasoup-worker"

# mediasoup-worker run without its environment exits with status 41 once it
# has been loaded successfully (all shared libraries found); the upstream
# postinstall uses the same test for prebuilt binaries.
worker_runs() {
	local status=0
	env -i "$1" >/dev/null 2>&1 </dev/null || status=$?
	[[ $status -eq 41 ]]
}

install_into_package() {
	[[ $do_install -eq 1 ]] || return 0
	local target_dir="$mediasoup_dir/worker/out/Release"
	local target="$target_dir/mediasoup-worker"
	if [[ -f "$target" ]] && cmp -s "$cached_bin" "$target"; then
		log "already in place: $target"
		return 0
	fi
	mkdir -p "$target_dir"
	cp "$cached_bin" "$target.tmp.$$"
	chmod 0755 "$target.tmp.$$"
	mv -f "$target.tmp.$$" "$target"
	log "installed into $target"
}

finish() {
	install_into_package
	printf '%s\n' "$cached_bin"
	exit 0
}

if [[ $force -eq 0 && -x "$cached_bin" ]] && worker_runs "$cached_bin"; then
	log "cache hit: $cached_bin"
	finish
fi

# --- system packages --------------------------------------------------------

missing=()
for pkg in "${REQUIRED_PACKAGES[@]}"; do
	if [[ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null || true)" != ii* ]]; then
		missing+=("$pkg")
	fi
done

if [[ ${#missing[@]} -gt 0 ]]; then
	[[ $use_apt -eq 1 ]] || die "missing Debian packages: ${missing[*]}"
	if [[ "$(id -u)" -eq 0 ]]; then
		sudo=()
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
		sudo=(sudo -n)
	else
		die "missing Debian packages: ${missing[*]} -- install them with: sudo apt-get install ${missing[*]}"
	fi
	log "installing missing Debian packages: ${missing[*]}"
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
else
	log "Debian packages present: ${REQUIRED_PACKAGES[*]}"
fi

# A cached binary that did not run may just have lacked its shared libraries.
if [[ $force -eq 0 && -x "$cached_bin" ]] && worker_runs "$cached_bin"; then
	log "cache hit: $cached_bin"
	finish
fi

# --- build (serialised across concurrent runs) ------------------------------

mkdir -p "$cache_root"
exec 9>"$cache_root/.lock"
if ! flock -n 9; then
	log "another build is running, waiting for $cache_root/.lock"
	flock 9
fi

if [[ $force -eq 0 && -x "$cached_bin" ]] && worker_runs "$cached_bin"; then
	log "cache hit (built by a concurrent run): $cached_bin"
	finish
fi

if [[ "$mediasoup_version" != "$PATCHED_FOR_VERSION" ]]; then
	log "WARNING: the patches were written for mediasoup $PATCHED_FOR_VERSION, this is $mediasoup_version"
fi

# meson and ninja from PyPI in a venv kept in the cache (Debian's meson is too
# old for the worker, which requires >= 1.1.0).
venv="$cache_root/tools/meson-$meson_version-ninja-$ninja_version"
if [[ "$("$venv/bin/meson" --version 2>/dev/null || true)" != "$meson_version" || ! -x "$venv/bin/ninja" ]]; then
	log "creating $venv (meson==$meson_version, ninja==$ninja_version from PyPI)"
	rm -rf "$venv"
	"$python" -m venv "$venv"
	"$venv/bin/python" -m pip install --disable-pip-version-check --no-input -q \
		"meson==$meson_version" "ninja==$ninja_version" >&2
fi
export PATH="$venv/bin:$PATH"

work="$(mktemp -d "${TMPDIR:-/tmp}/squared-mediasoup-worker.XXXXXX")"
trap 'rm -rf "$work"' EXIT

log "copying the worker sources of mediasoup $mediasoup_version to $work/src"
mkdir -p "$work/src"
tar -C "$mediasoup_dir" \
	--exclude=worker/out --exclude=worker/prebuild --exclude=worker/pip_invoke \
	--exclude=worker/subprojects/packagecache \
	-cf - worker | tar -C "$work/src" -xf -

for p in "${patches[@]}"; do
	log "applying $(basename "$p")"
	patch -p1 --batch --forward --no-backup-if-mismatch -s -d "$work/src" -i "$p" >&2 ||
		die "$(basename "$p") does not apply to mediasoup $mediasoup_version"
done

log "meson setup"
(cd "$work/src/worker" &&
	meson setup --wrap-mode=nodownload --buildtype=release -Db_ndebug=true "$work/build" >&2)

log "compiling with $jobs jobs (takes a few minutes)"
started=$SECONDS
# The FlatBuffers headers first, as upstream's tasks.py does: deps/libwebrtc
# includes them but its target does not depend on the generator, so a
# parallel build can otherwise compile it before they exist.
nice -n 10 meson compile -C "$work/build" flatbuffers-generator >&2
nice -n 10 ninja -C "$work/build" -j "$jobs" mediasoup-worker >&2
log "compiled in $((SECONDS - started)) s"

built="$work/build/mediasoup-worker"
worker_runs "$built" || die "the built mediasoup-worker does not start (expected exit status 41)"

staging="$cache_dir.tmp.$$"
rm -rf "$staging"
mkdir -p "$staging"
cp "$built" "$staging/mediasoup-worker"
{
	echo "mediasoup: $mediasoup_version"
	echo "key: $key"
	echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(. /etc/os-release && echo "$PRETTY_NAME") $(uname -m)"
	echo "meson: $meson_version, ninja: $ninja_version, $(c++ --version | head -n 1)"
	echo "patches:"
	(cd "$patch_dir" && sha256sum "${patches[@]##*/}" | sed 's/^/  /')
	echo "system libraries (pkg-config):"
	for lib in libuv openssl libsrtp2 flatbuffers absl_strings; do
		echo "  $lib $(pkg-config --modversion "$lib")"
	done
	echo "needs at run time (ldd):"
	ldd "$built" | awk '/=>/ {print "  " $1}'
} >"$staging/BUILDINFO"
rm -rf "$cache_dir"
mv -T "$staging" "$cache_dir"
log "cached: $cached_bin"

finish
