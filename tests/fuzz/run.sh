#!/bin/sh
# Build roost's libFuzzer targets with clang (ASan + UBSan) and run each for
# a while. Not part of the normal build: ctest runs it only with ROOST_FUZZ=ON.
#
#   tests/fuzz/run.sh [SECONDS]     default 10 s per target; 0 = replay the corpus only
#
# Environment: CC (default clang), ROOST_FUZZ_BUILD (default build-fuzz/ at the
# top of the tree), ROOST_FUZZ_TARGETS (default "proto history name vt"),
# ROOST_FUZZ_VTERM_SRC (a libvterm source tree, e.g. from `apt-get source
# libvterm`: it is then compiled into vt-fuzzer with the sanitizers, so memory
# errors inside libvterm are caught too; by default the system's
# uninstrumented libvterm is linked), ROOST_FUZZ_VT_C (a vt.c to build instead
# of src/vt/vt.c, to try a fix).
# New inputs go to $ROOST_FUZZ_BUILD/corpus/<target>/ (the seed corpus in
# tests/fuzz/corpus/ is read, never written); a crash leaves its input in
# $ROOST_FUZZ_BUILD/artifacts/ and makes the script exit 1.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
secs=${1:-10}
cc=${CC:-clang}
out=${ROOST_FUZZ_BUILD:-$root/build-fuzz}
targets=${ROOST_FUZZ_TARGETS:-"proto history name vt"}

case $secs in
*[!0-9]* | '') echo "usage: $0 [SECONDS]" >&2; exit 2 ;;
esac
if ! "$cc" --version 2>/dev/null | grep -qi clang; then
	echo "run.sh: $cc is not clang: libFuzzer needs clang (apt-get install clang libclang-rt-14-dev)" >&2
	exit 2
fi
mkdir -p "$out/artifacts"

cflags="-std=c17 -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined
	-fno-sanitize-recover=undefined -Wall -Wextra -Wno-unused-parameter -I$root/src"
common="$root/src/common/xmalloc.c $root/src/common/log.c $root/src/common/err.c
	$root/src/common/path.c $root/src/common/buf.c"

build() {
	t=$1
	shift
	# shellcheck disable=SC2086 # word splitting of the flag lists is intended
	"$cc" $cflags -o "$out/$t-fuzzer" "$here/$t-fuzzer.c" $common "$@"
}

for t in $targets; do
	case $t in
	proto) build proto "$root/src/proto/proto.c" ;;
	name) build name ;;
	history)
		build history "$root/src/history/history-writer.c" \
			"$root/src/history/history-reader.c" "$root/src/history/history-record.c" \
			$(pkg-config --cflags --libs libzstd zlib) -lpthread
		;;
	vt)
		if [ -n "${ROOST_FUZZ_VTERM_SRC:-}" ]; then
			# Its CSI argument parser overflows a long on huge numbers (benign
			# in practice, reported in docs/reliability.md): not checked there.
			mkdir -p "$out/vterm"
			for f in "$ROOST_FUZZ_VTERM_SRC"/src/*.c; do
				# shellcheck disable=SC2086
				"$cc" $cflags -fno-sanitize=signed-integer-overflow -w \
					-I"$ROOST_FUZZ_VTERM_SRC/include" -c "$f" \
					-o "$out/vterm/$(basename "$f" .c).o"
			done
			vterm="-I$ROOST_FUZZ_VTERM_SRC/include $out/vterm/*.o"
		else
			vterm=$(pkg-config --cflags --libs vterm)
		fi
		build vt "${ROOST_FUZZ_VT_C:-$root/src/vt/vt.c}" "$root/src/vt/vt-modes.c" \
			"$root/src/vt/vt-render.c" $vterm
		;;
	*) echo "run.sh: unknown target '$t'" >&2; exit 2 ;;
	esac
done

if [ -n "${ROOST_FUZZ_VTERM_SRC:-}" ]; then
	# libvterm's DECRQSS reply passes a "%.s" two arguments: glibc reads neither
	# (precision 0) but ASan's printf checker does and faults (docs/reliability.md).
	export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:check_printf=0}"
else
	export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
fi
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
status=0
for t in $targets; do
	case $t in
	proto) max=8192 ;;
	history) max=16384 ;;
	name) max=256 ;;
	vt) max=8192 ;;
	esac
	mkdir -p "$out/corpus/$t"
	if [ "$secs" -eq 0 ]; then
		run="-runs=0"
	else
		run="-max_total_time=$secs"
	fi
	echo "== $t-fuzzer ($secs s) =="
	if ! "$out/$t-fuzzer" $run -max_len=$max -timeout=20 -print_final_stats=1 \
		-artifact_prefix="$out/artifacts/$t-" "$out/corpus/$t" "$here/corpus/$t" \
		>"$out/$t.log" 2>&1; then
		status=1
		echo "FAIL: $t-fuzzer (log: $out/$t.log)"
		tail -n 40 "$out/$t.log"
	fi
	grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' "$out/$t.log" || true
done
exit $status
