#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# npm run test:check: the addon built with AddressSanitizer, UndefinedBehavior-
# Sanitizer and fault injection (CMakeLists.txt: EXEC_TRACER_SANITIZE,
# EXEC_TRACER_FAULTS) into build-check/, then the real-kernel suites that
# stress its memory handling and test/check's leak and fault tests against it
# (vitest.check.config.ts). Any sanitizer finding fails the run. Root and a
# kernel with BTF, like the other real-kernel suites; CI runs it.
set -euo pipefail
cd "$(dirname "$0")/.."

npx cmake-js compile --runtime node --out build-check/build \
  --CDEXEC_TRACER_SANITIZE=ON --CDEXEC_TRACER_FAULTS=ON
npm run build:ts --silent

# The addon is dlopened by Node, which is not built with ASan: the runtime
# must be loaded first, so it is preloaded (into every process the suites
# start; the programs among them run unchanged). The same GCC built the addon.
asan=$(readlink -f "$(g++ -print-file-name=libasan.so)")
if [ ! -f "$asan" ]; then
  echo "test-check: no libasan.so from g++ (apt-get install g++)" >&2
  exit 1
fi

reports=build-check/reports
rm -rf "$reports"
mkdir -p "$reports"
# Reports go to files named after the process (<kind>.<program>.<pid>), so a
# finding in a child process is not lost in a test's captured output. Leaks
# are judged in test/check/driver.ts's processes, which end by themselves
# (test/check/leaks.kernel.test.ts turns detect_leaks on there); the test
# runner ends its workers with SIGTERM, where no leak check runs.
export LD_PRELOAD="$asan"
export ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:log_path=$PWD/$reports/asan:log_exe_name=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$PWD/$reports/ubsan:log_exe_name=1"
# node-gyp-build loads $EXEC_TRACER_PREBUILD/build/Release/*.node instead of build/.
export EXEC_TRACER_PREBUILD="$PWD/build-check"

status=0
npx vitest run --config vitest.check.config.ts "$@" || status=$?

unset LD_PRELOAD
if compgen -G "$reports/*" >/dev/null; then
  for report in "$reports"/*; do
    echo "=== sanitizer report: $report" >&2
    cat "$report" >&2
  done
  echo "test-check: the sanitizers reported the findings above" >&2
  status=1
fi
exit "$status"
