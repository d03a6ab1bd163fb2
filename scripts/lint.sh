#!/usr/bin/env bash
# The linters Debian packages, on every file of the tree they read. A finding
# is fixed, or suppressed on its line with the reason beside it.
#   scripts/lint.sh scripts      the shell scripts through shellcheck (its
#                                settings, with their reasons, in .shellcheckrc)
#                                and the Python through pyflakes
#   scripts/lint.sh cpp [BUILD]  every C++ file against .clang-format, and src/
#                                through clang-tidy (.clang-tidy says which
#                                checks and why) with BUILD's compile commands
#                                (default: build)
#   scripts/lint.sh              both
# CTest runs them as lint.scripts_and_python and lint.cpp.
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:-all}
build=${2:-build}
status=0
# The tracked files, and those about to be (a new file is checked before its commit).
files() { git ls-files --cached --others --exclude-standard "$@"; }

if [ "$kind" = scripts ] || [ "$kind" = all ]; then
  mapfile -t shell < <(files '*.sh')
  mapfile -t python < <(files '*.py')
  echo "lint: shellcheck on ${#shell[@]} scripts"
  shellcheck -f gcc "${shell[@]}" || status=1
  echo "lint: pyflakes on ${#python[@]} Python files"
  /usr/bin/python3 -m pyflakes "${python[@]}" || status=1  # Debian's, with python3-pyflakes
fi

if [ "$kind" = cpp ] || [ "$kind" = all ]; then
  # The QEMU plugin is C in QEMU's manner (qemu-plugin/.clang-format).
  mapfile -t cpp < <(files '*.cpp' '*.h' | grep -v '^qemu-plugin/')
  echo "lint: clang-format on ${#cpp[@]} C++ files"
  clang-format --dry-run --Werror "${cpp[@]}" || status=1
  [ -f "$build/compile_commands.json" ] || { echo "lint: no $build/compile_commands.json: build first" >&2; exit 1; }
  echo "lint: clang-tidy on src/ (two at a time)"
  # Its own output only: each file's findings, then a summary of the failed ones.
  run-clang-tidy -p "$build" -j 2 -quiet "$PWD/src/" > "$build/clang-tidy.log" 2>&1 || {
    grep -E "(warning|error):" "$build/clang-tidy.log" | sort -u
    status=1
  }
fi

[ "$status" = 0 ] && echo "lint: no findings"
exit "$status"
