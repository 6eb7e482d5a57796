#!/bin/sh
# Turn the viewer's HTML, CSS and JS into C arrays, so the page is built into
# ssed: no files on disk, nothing fetched from anywhere else.
# Usage: embed.sh DIR > viewer_assets.c
set -eu
dir=$1
echo "/* Generated from $dir by embed.sh; do not edit. */"
echo "#include <stddef.h>"
for asset in html:viewer.html css:viewer.css js:viewer.js; do
    name=${asset%%:*}
    file=$dir/${asset#*:}
    echo "const unsigned char viewer_$name[] = {"
    od -An -v -tx1 "$file" | sed 's/ *\([0-9a-f][0-9a-f]\)/0x\1,/g'
    echo "};"
    echo "const size_t viewer_${name}_len = sizeof viewer_$name;"
done
