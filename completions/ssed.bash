# bash completion for ssed
_ssed() {
    local cur prev
    cur="${COMP_WORDS[COMP_CWORD]}"
    prev="${COMP_WORDS[COMP_CWORD-1]}"
    case "$prev" in
        --fifo|--token-file|--config|--jwt-secret-file|--jwt-key-file)
            COMPREPLY=($(compgen -f -- "$cur"))
            return ;;
        --format)
            COMPREPLY=($(compgen -W "lines sse" -- "$cur"))
            return ;;
        --sync)
            COMPREPLY=($(compgen -W "always batch off" -- "$cur"))
            return ;;
        --log-format)
            COMPREPLY=($(compgen -W "text json" -- "$cur"))
            return ;;
        --replay)
            COMPREPLY=($(compgen -f -- "$cur"))
            return ;;
        --speed)
            COMPREPLY=($(compgen -W "0.5 1 2 max" -- "$cur"))
            return ;;
        --method)
            COMPREPLY=($(compgen -W "GET POST" -- "$cur"))
            return ;;
        --store|--tls-cert|--tls-key)
            COMPREPLY=($(compgen -f -- "$cur"))
            return ;;
        -l|--listen)
            COMPREPLY=($(compgen -W "127.0.0.1:8080 127.0.0.1:0 :8080 :8443 [::1]:8080 unix: http:// https://" -- "$cur"))
            return ;;
        --fifo-mode|-e|--event|-c|--channel|--max-event-size|--history|--max-history-bytes|--store|--redis|--redis-prefix|--tls-ciphers|--tls-ciphersuites|--replay-from|--keepalive|\
        --retry|--cors|--allow-host|\
        --max-pending|--max-clients|--max-channels|--max-header-size|--h2-max-streams|--h2-conn-buffer|--h2-total-buffer|--header-timeout|--shutdown-timeout|--token|\
        --metrics-channels|--jwt-audience|--jwt-issuer|--jwt-leeway|--jwt-cookie|--public)
            return ;;
    esac
    COMPREPLY=($(compgen -W "--fifo --fifo-mode --no-stdin --format -0 --null -e --event -c --channel
        --max-event-size --exit-on-eof -l --listen --history --max-history-bytes --store --sync --store-repair --redis --redis-prefix --reuse-port --tls-cert --tls-key --tls-ciphers --tls-ciphersuites --replay --speed --loop --replay-from --method --keepalive --retry --cors
        --allow-host --max-pending
        --max-clients --max-channels --max-header-size --h2-max-streams --h2-conn-buffer --h2-total-buffer --header-timeout --shutdown-timeout --token --token-file
        --no-publish --jwt-secret-file --jwt-key-file --jwt-audience --jwt-issuer --jwt-leeway --jwt-cookie --public
        --no-ui --metrics-channels --config -t --check -v --verbose
        -q --quiet --log-format -h --help -V --version" -- "$cur"))
}
complete -F _ssed ssed
