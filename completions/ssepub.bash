# bash completion for ssepub
_ssepub() {
    local cur prev
    cur="${COMP_WORDS[COMP_CWORD]}"
    prev="${COMP_WORDS[COMP_CWORD-1]}"
    case "$prev" in
        --unix-socket|--cacert|--token-file)
            COMPREPLY=($(compgen -f -- "$cur"))
            return ;;
        --format)
            COMPREPLY=($(compgen -W "lines sse" -- "$cur"))
            return ;;
        -u|--user|--url|-c|--channel|--token|-e|--event|-i|--id|--max-event-size|--retry-for|-H|--header|--proxy|\
        --connect-timeout|-A|--user-agent)
            return ;;
    esac
    COMPREPLY=($(compgen -W "--url -u --user -c --channel --unix-socket --token --token-file -e --event -i --id -s --stdin-whole
        -0 --null --format --max-event-size --retry-for -H --header -k --insecure --cacert --proxy
        --connect-timeout -A --user-agent -q --quiet -v --verbose -h --help -V --version" -- "$cur"))
}
complete -F _ssepub ssepub
