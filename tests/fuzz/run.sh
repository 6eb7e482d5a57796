#!/usr/bin/env bash
# Builds each fuzz target with clang's libFuzzer, ASan and UBSan, and runs it
# for a bounded time on a copy of its seed corpus. Usage: run.sh SECONDS
set -eu
seconds=${1:-60}
top=$(cd "$(dirname "$0")/../.." && pwd)
cc=${FUZZ_CC:-clang}
out="$top/build-fuzz"
mkdir -p "$out"
status=0
# ssed's files include each other by name from its layer folders.
ssed_inc=-I"$top/cmd/ssed"
for dir in "$top"/cmd/ssed/*/; do ssed_inc="$ssed_inc -I$dir"; done
# common/http_client.c is built into every target with the rest of common/,
# so every target links libcurl.
curl_cflags=$(pkg-config --cflags libcurl 2>/dev/null || true)
curl_libs=$(pkg-config --libs libcurl 2>/dev/null || echo -lcurl)
# ssed's store (linked into the targets built from ssed's sources) uses SQLite.
store_libs=$(pkg-config --libs sqlite3 2>/dev/null || echo -lsqlite3)
# and its cluster link hiredis, its HTTP/2 libnghttp2.
store_libs="$store_libs $(pkg-config --libs hiredis 2>/dev/null || echo -lhiredis)"
# and its token checks libcrypto and jansson.
store_libs="$store_libs $(pkg-config --libs libcrypto jansson 2>/dev/null || echo -lcrypto -ljansson)"
store_libs="$store_libs $(pkg-config --libs libnghttp2 2>/dev/null || echo -lnghttp2)"
# A target's "fuzz-sources:" line: paths or globs under the top, !PATH to
# leave one out, @viewer_assets for ssed's viewer page generated into $out.
fuzz_sources() (
    cd "$top"
    for word in $1; do
        case $word in
        !*) ;;
        @viewer_assets) echo "$out/viewer_assets.c" ;;
        *) case " $1 " in *" !$word "*) ;; *) echo "$top/$word" ;; esac ;;
        esac
    done
)
# Generated once, before targets are built side by side.
sh "$top/cmd/ssed/viewer/embed.sh" "$top/cmd/ssed/viewer" >"$out/viewer_assets.c"

# fuzz_one SOURCE: build one target and run it; 1 if it found a problem.
fuzz_one() {
    local src=$1 name target extra_src work
    name=$(basename "$src" .c)
    target=${name#fuzz_}
    extra_src=$(sed -n 's|^/\* fuzz-sources: \(.*\) \*/$|\1|p' "$src")
    "$cc" -g -O1 -std=c11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
        -I"$top/common" $ssed_inc $curl_cflags -o "$out/$name" "$src" $(fuzz_sources "$extra_src") \
        "$top"/common/*.c $curl_libs $store_libs -lm || return 1
    work="$out/corpus-$target"
    mkdir -p "$work"
    local dict=()
    [ -f "$top/tests/fuzz/$target.dict" ] && dict=(-dict="$top/tests/fuzz/$target.dict")
    echo "== fuzzing $target for ${seconds}s"
    if ! "$out/$name" -max_total_time="$seconds" -print_final_stats=1 "${dict[@]}" \
        -artifact_prefix="$out/$target-" "$work" "$top/tests/fuzz/corpus/$target" 2>"$out/$target.log"; then
        echo "fuzz target $target found a problem; see $out/$target.log"
        tail -40 "$out/$target.log"
        return 1
    fi
    grep -E 'stat::number_of_executed_units|stat::peak_rss_mb' "$out/$target.log" | sed "s/^/$target: /"
}

# As many targets at once as there are cores (FUZZ_JOBS): each is one
# process, and CI's time is mostly theirs. Each one's report is printed
# whole, in order, when all have ended.
jobs_max=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}
sources=("$top"/tests/fuzz/fuzz_${FUZZ_ONLY:-*}.c)
for src in "${sources[@]}"; do
    name=$(basename "$src" .c)
    rm -f "$out/$name.status"
    (
        rc=0
        fuzz_one "$src" >"$out/$name.report" 2>&1 || rc=1
        echo "$rc" >"$out/$name.status"
    ) &
    while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do
        wait -n || true
    done
done
wait
for src in "${sources[@]}"; do
    name=$(basename "$src" .c)
    cat "$out/$name.report"
    [ "$(cat "$out/$name.status" 2>/dev/null)" = 0 ] || status=1
done
exit $status
