#!/bin/sh
# valgrind-holder.sh: a ROOST_HOLDER that runs the real holder under valgrind
# (memcheck, full leak check), one log per holder in $ROOST_VALGRIND_DIR.
# Used by valgrind-run.py; not a test by itself. The holder to run is
# $ROOST_VALGRIND_HOLDER (default: build/roost-holder of this tree).
here=$(cd "$(dirname "$0")" && pwd)
holder=${ROOST_VALGRIND_HOLDER:-$here/../../../build/roost-holder}
dir=${ROOST_VALGRIND_DIR:-/tmp}
exec valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite,indirect,possible \
	--errors-for-leak-kinds=definite,indirect --error-exitcode=99 --num-callers=30 \
	--log-file="$dir/holder.%p.log" "$holder" "$@"
