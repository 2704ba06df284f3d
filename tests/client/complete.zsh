# SPDX-License-Identifier: LGPL-2.1-or-later
# SPDX-FileCopyrightText: 2026 rpmsgd contributors
# Drives rpmsgctl's zsh completion as a person at a prompt would, for completion_test.cpp:
#   zsh -f complete.zsh COMPLETION_SCRIPT DIR LINE
# starts an interactive `zsh -f` on a pseudo-terminal (zpty), loads the completion system
# (compinit) with COMPLETION_SCRIPT as _rpmsgctl, changes to DIR, types LINE and Tab. A compadd
# of our own records what the completion functions add; one line per match goes to stdout,
# "MATCH value" or "MATCH-NOSPACE value" (added with an empty suffix: no space after it).
emulate -L zsh
zmodload zsh/zpty || exit 3
local script=$1 dir=$2 line=$3 fn out
fn=$(mktemp -d) && cp $script $fn/_rpmsgctl || exit 3
trap 'zpty -d z 2>/dev/null; rm -rf $fn' EXIT

zpty z zsh -f -i
zpty -w z "fpath=(${(q)fn} \$fpath); autoload -Uz compinit; compinit -u -D; cd ${(q)dir}"
# _describe and _path_files first collect matches into arrays (-O, -A, -D): those calls go
# through; the calls that add matches are recorded, then made. Each record starts a line of
# its own: the terminal's cursor may be behind the typed text.
zpty -w z 'compadd() {
  if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return; fi
  local -a hits; local h kind=MATCH
  builtin compadd -A hits "$@"
  (( ${@[(I)-S]} )) && [[ -z ${@[${@[(I)-S]}+1]} ]] && kind=MATCH-NOSPACE
  for h in $hits; do print -rl -- "" "$kind $h"; done
  builtin compadd "$@"
}'
zpty -w z 'rpmsgctl_test_end() { print COMPLETION-""END; }; comppostfuncs=(rpmsgctl_test_end)'
# Each marker is printed, but typed split by "", so the echo of the typed line cannot match.
zpty -w z 'print SETUP-""DONE'
zpty -r z out '*SETUP-DONE*' || exit 4
zpty -w -n z "$line"$'\t'
zpty -r z out '*COMPLETION-END*' || exit 5
print -rl -- ${(M)${(f)out//$'\r'/}:#MATCH*}
