# bash completion for ssecat(1)
_ssecat() {
    local cur prev opts
    COMPREPLY=()
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD - 1]}
    opts="--header --request --data --json --user --bearer --token-file --insecure --cacert --proxy
          --unix-socket --connect-timeout --compressed --user-agent --last-event-id
          --ignore-content-type --location-trusted --retry-delay --max-delay --max-retries --retry-connrefused --no-reconnect
          --reconnect --output --format-string --comments --timestamps --no-color
          --pretty-json --no-buffer --max-event-size --input --record --event --count --until
          --until-inclusive --idle-timeout
          --max-time --silent --show-error --disable --verbose --help --version
          -H -X -d -u -k -A -o -F -N -e -n -m -s -S -q -v -h -V"
    case $prev in
    -o | --output)
        mapfile -t COMPREPLY < <(compgen -W "data json sse pretty record" -- "$cur")
        return ;;
    -X | --request)
        mapfile -t COMPREPLY < <(compgen -W "GET POST PUT PATCH DELETE" -- "$cur")
        return ;;
    --input | --record | --cacert | --unix-socket | --token-file)
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
        return ;;
    -H | --header | -d | --data | --json | -u | --user | --bearer | --proxy | --connect-timeout | \
        -A | --user-agent | --last-event-id | --retry-delay | --max-delay | --max-retries | \
        -F | --format-string | --max-event-size | -e | --event | -n | --count | --until | \
        --idle-timeout | -m | --max-time)
        return ;;
    esac
    if [[ $cur == -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
    fi
}
complete -F _ssecat ssecat
