# SPDX-License-Identifier: LGPL-2.1-or-later
# SPDX-FileCopyrightText: 2026 rpmsgd contributors
# Drives rpmsgctl's bash completion for completion_test.cpp:
#   bash complete.bash COMPLETION_SCRIPT MODE DIR WORD...
# sources COMPLETION_SCRIPT, changes to DIR, sets the COMP_* variables bash sets for the
# command line WORD... (the last WORD being completed) and calls _rpmsgctl; prints COMPREPLY,
# one per line. MODE "plain": the script alone, COMP_WORDS are the WORDs. MODE
# "bash-completion": after Debian's bash_completion, with the WORDs split at ':' and '=' as
# readline splits them (COMP_WORDBREAKS) and COMP_LINE/COMP_POINT set, which is how an
# installed completion runs.
script=$1 mode=$2 dir=$3
shift 3
if [[ $mode == bash-completion ]]; then
    source /usr/share/bash-completion/bash_completion || exit 3
fi
source "$script" || exit 3
cd "$dir" || exit 3

COMP_WORDS=()
for word in "$@"; do
    rest=$word
    if [[ $mode == bash-completion ]]; then
        while [[ $rest =~ ^([^:=]*)([:=])(.*)$ ]]; do
            [[ -n ${BASH_REMATCH[1]} ]] && COMP_WORDS+=("${BASH_REMATCH[1]}")
            COMP_WORDS+=("${BASH_REMATCH[2]}")
            rest=${BASH_REMATCH[3]}
        done
    fi
    [[ -n $rest || -z $word ]] && COMP_WORDS+=("$rest")
done
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
COMP_LINE="$*"
COMP_POINT=${#COMP_LINE}
_rpmsgctl rpmsgctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}" || exit 4
((${#COMPREPLY[@]} == 0)) || printf '%s\n' "${COMPREPLY[@]}"
