#!/bin/sh
# make deb: build ssetools_VERSION_ARCH.deb in BUILD_DIR from a staged
# `make install DESTDIR=... PREFIX=/usr`, with dpkg-deb and no debian/
# folder in the tree: the package's few control fields are written here,
# next to the CI scripts that check it (.ci/deb_check.sh), since they are
# release tooling, not part of any binary.
# The binaries are built apart, in BUILD_DIR (default build-deb), with
# Debian's hardening flags (dpkg-buildflags: fortify, stack protector,
# relro and bindnow), and stripped.
# Usage: sh .ci/deb_build.sh [BUILD_DIR]
set -eu
build_dir=${1:-build-deb}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
version=$(sed -n 's/^#define SSETOOLS_VERSION "\(.*\)"$/\1/p' common/version.h)
arch=$(dpkg --print-architecture)
[ -n "$version" ] || { echo "ssetools: no SSETOOLS_VERSION in common/version.h" >&2; exit 1; }
deb="$build_dir/ssetools_${version}_${arch}.deb"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root="$stage/root"
doc="$root/usr/share/doc/ssetools"
# Who the package names as its maintainer; set it for a real release.
maintainer=${DEB_MAINTAINER:-"ssetools authors <ssetools@example.org>"}
# The release date: the last commit's (reproducible), or SOURCE_DATE_EPOCH.
when=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}

# Debian 12 keeps units in /lib (lintian: systemd-service-file-outside-lib).
export DEB_BUILD_MAINT_OPTIONS=hardening=+all
cflags="$(dpkg-buildflags --get CFLAGS) $(dpkg-buildflags --get CPPFLAGS)"
ldflags=$(dpkg-buildflags --get LDFLAGS)
make -s all SANITIZE=0 BUILD_DIR="$build_dir" CFLAGS="$cflags" LDFLAGS="$ldflags" >/dev/null
make -s install SANITIZE=0 BUILD_DIR="$build_dir" CFLAGS="$cflags" LDFLAGS="$ldflags" DESTDIR="$root" PREFIX=/usr \
    SYSTEMD_UNIT_DIR=/lib/systemd/system >/dev/null
for b in "$root"/usr/bin/*; do
    strip --strip-unneeded --remove-section=.comment --remove-section=.note "$b"
done
gzip -9n "$root"/usr/share/man/man1/*.1

install -d "$doc"
cat >"$doc/copyright" <<COPYRIGHT
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: ssetools
Comment: ssetools is not published under a licence yet; this package is for
 its authors' own use and testing.

Files: *
Copyright: $(date -u -d @"$when" +%Y) the ssetools authors
License: none
 No licence has been granted yet: all rights reserved by the authors.
COPYRIGHT
cat >"$stage/changelog" <<CHANGELOG
ssetools ($version) unstable; urgency=medium

  * Release $version: ssed, ssecat, ssepub.

 -- $maintainer  $(date -u -R -d @"$when")
CHANGELOG
gzip -9n -c "$stage/changelog" >"$doc/changelog.gz"
chmod 644 "$doc/copyright" "$doc/changelog.gz"

# Depends: what the binaries link to, as dpkg-shlibdeps works it out from
# the shlibs files of the installed libraries. It wants a debian/control.
mkdir -p "$stage/debian"
printf 'Source: ssetools\n\nPackage: ssetools\nArchitecture: any\n' >"$stage/debian/control"
depends=$(cd "$stage" && dpkg-shlibdeps -O root/usr/bin/* 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || { echo "ssetools: dpkg-shlibdeps found no dependencies" >&2; exit 1; }

install -d -m 755 "$root/DEBIAN"
# The example configuration is the operator's once installed.
find "$root/etc" -type f | sed "s|^$root||" >"$root/DEBIAN/conffiles"
cat >"$root/DEBIAN/control" <<CONTROL
Package: ssetools
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)
Depends: $depends
Section: net
Priority: optional
Description: Server-Sent Events from the shell: server, client and publisher
 ssed serves events from stdin, a FIFO or HTTP publishers to any number of
 Server-Sent Events subscribers, with history for Last-Event-ID resume,
 an optional durable store and a Redis cluster mode; it runs as a systemd
 service with socket activation (ssed.service, ssed.socket).
 .
 ssecat subscribes to any SSE URL and prints the parsed events exactly as
 a browser would see them; ssepub publishes lines or events to ssed.
CONTROL
# Maintainer scripts: what dh_installsystemd --no-enable --no-start would
# write. The package neither enables nor starts ssed (the operator edits
# /etc/ssed/ssed.conf first, then enables ssed.service or ssed.socket), but
# systemd is told about new or removed units, a removal stops them, and a
# purge forgets any enablement. systemctl and deb-systemd-invoke act on the
# running system only: not when systemd is not running, nor when dpkg installs
# into another root (DPKG_ROOT, as `dpkg --root` in .ci/deb_check.sh);
# deb-systemd-helper keeps its state under DPKG_ROOT itself. Every step is
# "|| true": a package must install and remove where systemd is absent.
units="'ssed.service' 'ssed.socket'"
cat >"$root/DEBIAN/postinst" <<POSTINST
#!/bin/sh
set -e
if [ "\$1" = configure ] || [ "\$1" = abort-upgrade ] || [ "\$1" = abort-deconfigure ] || [ "\$1" = abort-remove ]; then
	if command -v deb-systemd-helper >/dev/null; then
		deb-systemd-helper update-state $units >/dev/null || true
	fi
	if [ -z "\${DPKG_ROOT:-}" ] && [ -d /run/systemd/system ]; then
		systemctl --system daemon-reload >/dev/null || true
	fi
fi
exit 0
POSTINST
cat >"$root/DEBIAN/prerm" <<PRERM
#!/bin/sh
set -e
if [ "\$1" = remove ] && [ -z "\${DPKG_ROOT:-}" ] && [ -d /run/systemd/system ]; then
	deb-systemd-invoke stop $units >/dev/null || true
fi
exit 0
PRERM
cat >"$root/DEBIAN/postrm" <<POSTRM
#!/bin/sh
set -e
if [ "\$1" = remove ] && [ -z "\${DPKG_ROOT:-}" ] && [ -d /run/systemd/system ]; then
	systemctl --system daemon-reload >/dev/null || true
fi
if [ "\$1" = purge ] && command -v deb-systemd-helper >/dev/null; then
	deb-systemd-helper purge $units >/dev/null || true
fi
exit 0
POSTRM
chmod 755 "$root/DEBIAN/postinst" "$root/DEBIAN/prerm" "$root/DEBIAN/postrm"
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) \
    >"$root/DEBIAN/md5sums"
chmod 644 "$root/DEBIAN/control" "$root/DEBIAN/conffiles" "$root/DEBIAN/md5sums"
chmod 755 "$root"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
