# zsh -f zsh_complete.zsh DIR LINE: the candidates zsh's own completion
# system (compinit, with DIR first in fpath) offers for LINE, one a line.
# An interactive zsh in a pseudo-terminal (zsh/zpty) is typed LINE and a
# tab; compadd is wrapped to print what completion functions add, and the
# shell exits once completion has finished (comppostfuncs). The markers
# are typed split ("@@""C") so the terminal's echo of the typing is not
# taken for output.
zmodload zsh/zpty || { print -u2 "zsh_complete: no zsh/zpty module"; exit 1 }
zpty z zsh -f -i
local line
zpty -w z "fpath=(${(q)1} \$fpath); autoload -U compinit; compinit -u -D"
zpty -w z 'compadd () {
  if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return $?; fi
  typeset -a __hits; builtin compadd -A __hits "$@"
  local ret=$?
  (( $#__hits )) && print -l -- "@@""C "${^__hits}
  builtin compadd "$@"
  return $ret
}'
zpty -w z 'finish () { print "<<DO""NE>>"; exit }'
zpty -w z 'zstyle ":completion:*" insert-tab false; comppostfuncs=(finish)'
zpty -w z "$2"$'\t'
# Reads until the shell says it is done, for at most about 30 s (the
# caller's timeout is the real deadline).
integer tries=0
while (( tries++ < 3000 )); do
  zpty -r -t z line || { sleep 0.01; continue }
  [[ $line == *'<<DONE>>'* ]] && break
  [[ $line == *"@@C "* ]] && print -r -- "${${line##*@@C }%%$'\r'*}"
done
zpty -d z
