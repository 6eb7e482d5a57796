#!/bin/sh
# make check-package: check the package make deb built. Its fields and
# contents (dpkg-deb --info/--contents), lintian (no errors or warnings),
# and an install, remove and purge in a throwaway root (dpkg --root)
# that must leave nothing behind; the real system is not touched.
# Usage: sh .ci/deb_check.sh [BUILD_DIR]
set -eu
build_dir=${1:-build-deb}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
version=$(sed -n 's/^#define SSETOOLS_VERSION "\(.*\)"$/\1/p' common/version.h)
deb="$build_dir/ssetools_${version}_$(dpkg --print-architecture).deb"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=0
fail() {
    echo "check-package: $*" >&2
    failed=1
}

echo "== dpkg-deb --info $deb"
dpkg-deb --info "$deb" >"$work/info" || fail "dpkg-deb --info failed"
for field in "Package: ssetools" "Version: $version" "Depends: .*libc6 " "Depends: .*libcurl4" \
    "Depends: .*libsqlite3-0" "Depends: .*libhiredis" "Section: net"; do
    grep -q "^ $field" "$work/info" || fail "control has no '$field'"
done
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles | grep -qx /etc/ssed/ssed.conf ||
    fail "/etc/ssed/ssed.conf is not a conffile"
# the units' maintainer scripts (see .ci/deb_build.sh): systemd learns of
# them, a removal stops them, a purge forgets them; nothing enables them
dpkg-deb --ctrl-tarfile "$deb" | tar -x -C "$work" ./postinst ./prerm ./postrm ||
    fail "postinst, prerm or postrm missing"
for want in "postinst:deb-systemd-helper update-state 'ssed.service' 'ssed.socket'" \
    "postinst:systemctl --system daemon-reload" "prerm:deb-systemd-invoke stop 'ssed.service' 'ssed.socket'" \
    "postrm:systemctl --system daemon-reload" "postrm:deb-systemd-helper purge 'ssed.service' 'ssed.socket'"; do
    grep -qF "${want#*:}" "$work/${want%%:*}" 2>/dev/null || fail "${want%%:*} does not run '${want#*:}'"
done
! grep -qE 'enable|start' "$work/postinst" 2>/dev/null || fail "postinst enables or starts a unit"

echo "== dpkg-deb --contents $deb"
dpkg-deb --contents "$deb" | awk '{print $2 " " $6}' >"$work/contents"
for path in usr/bin/ssed usr/bin/ssecat usr/bin/ssepub usr/share/man/man1/ssed.1.gz usr/share/man/man1/ssecat.1.gz \
    usr/share/man/man1/ssepub.1.gz usr/share/bash-completion/completions/ssed usr/share/zsh/vendor-completions/_ssed \
    usr/share/fish/vendor_completions.d/ssed.fish lib/systemd/system/ssed.service lib/systemd/system/ssed.socket \
    etc/ssed/ssed.conf usr/share/doc/ssetools/copyright usr/share/doc/ssetools/changelog.gz; do
    grep -q "^root/root \./$path$" "$work/contents" || fail "$path missing (or not root's)"
done
dpkg-deb --fsys-tarfile "$deb" | tar -xO ./lib/systemd/system/ssed.service |
    grep -qx 'ExecStart=/usr/bin/ssed --config /etc/ssed/ssed.conf' || fail "ssed.service: wrong ExecStart"

echo "== lintian"
lintian_status=0
lintian --fail-on error,warning --tag-display-limit 0 "$deb" >"$work/lintian" 2>&1 || lintian_status=$?
grep -v 'running with root privileges' "$work/lintian" || true
[ "$lintian_status" -eq 0 ] || fail "lintian reports errors or warnings"

echo "== install and purge in a throwaway root"
root="$work/root"
# /var/lib/systemd is systemd's on a real system; deb-systemd-helper keeps
# its state below it and leaves the folder itself after a purge.
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$root/var/lib/systemd"
: >"$root/var/lib/dpkg/status"
: >"$root/var/lib/dpkg/available"
find "$root" >"$work/before"
# The throwaway root has none of the libraries: --force-depends. The
# maintainer scripts run outside it with DPKG_ROOT set to it, so they must
# leave the running system alone and deb-systemd-helper keep its state
# inside the root (checked below, and gone after the purge).
dpkg_root() {
    dpkg --root="$root" --log="$work/dpkg.log" --force-not-root --force-depends --force-script-chrootless "$@"
}
dpkg_root --install "$deb" >"$work/dpkg.out" 2>&1 || { cat "$work/dpkg.out"; fail "dpkg --install failed"; }
[ -x "$root/usr/bin/ssed" ] || fail "ssed not installed in the throwaway root"
"$root/usr/bin/ssed" --version >/dev/null || fail "the installed ssed does not run"
dpkg_root --status ssetools | grep -q '^Status: install ok installed' || fail "dpkg does not list ssetools as installed"
state="$root/var/lib/systemd/deb-systemd-helper-enabled"
[ -e "$state/ssed.service.dsh-also" ] || ! command -v deb-systemd-helper >/dev/null ||
    fail "postinst did not record the units' state in the throwaway root"
# an edited configuration survives a removal, and goes with a purge
echo "history 5" >>"$root/etc/ssed/ssed.conf"
dpkg_root --remove ssetools >>"$work/dpkg.out" 2>&1 || fail "dpkg --remove failed"
[ -f "$root/etc/ssed/ssed.conf" ] || fail "dpkg --remove removed the configuration"
[ ! -e "$root/usr/bin/ssed" ] || fail "dpkg --remove left /usr/bin/ssed"
dpkg_root --purge ssetools >>"$work/dpkg.out" 2>&1 || fail "dpkg --purge failed"
# nothing left but dpkg's own bookkeeping
find "$root" | grep -v "^$root/var/lib/dpkg/" | grep -vxF -f "$work/before" >"$work/left" || true
if [ -s "$work/left" ]; then
    cat "$work/left" >&2
    fail "files left behind after purge"
fi
[ ! -e "$root/var/lib/dpkg/info/ssetools.list" ] || fail "dpkg still has ssetools' file list"
echo "$(wc -l <"$work/before") paths before install, $(find "$root" | grep -vc "^$root/var/lib/dpkg/") outside dpkg's database after purge"

if [ "$failed" -ne 0 ]; then
    echo "check-package: FAILED" >&2
    exit 1
fi
echo "check-package: ok ($deb)"
