#!/usr/bin/env bash
# How api/static/yasgui/ was obtained: the built YASGUI (query editor + results viewer) from the
# npm registry, vendored so that the query page needs nothing from a CDN at run time.
#   package  @zazuko/yasgui (MIT; fork by Zazuko GmbH of Triply's YASGUI)
#   version  4.6.2   tarball sha256 below
# Run from the repository root: bash scripts/vendor-yasgui.sh
set -euo pipefail
VERSION=4.6.2
SHA256=6520cdd256a4003e8d45865e0d631b6456b88a0e6b65f4f3e56d78a25d74c9a7
DEST=api/static/yasgui
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "@zazuko/yasgui@$VERSION" >/dev/null)
tarball="$work/zazuko-yasgui-$VERSION.tgz"
echo "$SHA256  $tarball" | sha256sum -c -
tar -xzf "$tarball" -C "$work"
mkdir -p "$DEST"
cp "$work/package/build/yasgui.min.js" "$work/package/build/yasgui.min.css" "$DEST/"
cp "$work/package/package.json" "$DEST/package.json"
echo "vendored @zazuko/yasgui $VERSION into $DEST (see $DEST/LICENSE.md)"
