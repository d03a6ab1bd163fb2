#!/usr/bin/env bash
# The linters Debian packages, on every file of the tree they read: the
# shell scripts through shellcheck (its settings, with the reasons for them,
# in .shellcheckrc) and the Python through pyflakes. A finding is fixed, or
# suppressed on its line with the reason beside it. CTest runs this as
# lint.scripts_and_python.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
# The tracked files, and those about to be (a new script is checked before its commit).
mapfile -t shell < <(git ls-files --cached --others --exclude-standard '*.sh')
mapfile -t python < <(git ls-files --cached --others --exclude-standard '*.py')
echo "lint: shellcheck on ${#shell[@]} scripts"
shellcheck -f gcc "${shell[@]}" || status=1
echo "lint: pyflakes on ${#python[@]} Python files"
/usr/bin/python3 -m pyflakes "${python[@]}"  # Debian's, with python3-pyflakes || status=1
[ "$status" = 0 ] && echo "lint: no findings"
exit "$status"
