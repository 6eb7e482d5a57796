# Minting JSON Web Tokens in shell with openssl, for tests/jwt.bats. Load
# with `load lib/jwt_helpers` (after helpers).

# b64url: standard input as base64url without padding.
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }

# der_to_raw: an ECDSA DER signature on stdin as r||s (32 bytes each).
der_to_raw() {
    python3 -c '
import sys
d = sys.stdin.buffer.read()
assert d[0] == 0x30
i = 2 if d[1] < 0x80 else 3
def integer(i):
    assert d[i] == 0x02
    n = d[i + 1]
    return d[i + 2:i + 2 + n], i + 2 + n
r, i = integer(i)
s, i = integer(i)
sys.stdout.buffer.write(r.lstrip(b"\0").rjust(32, b"\0") + s.lstrip(b"\0").rjust(32, b"\0"))'
}

# jwt_sign ALG KEY INPUT: the base64url signature of INPUT. KEY is the
# secret file (HS*) or the private key PEM (RS*, ES256, EdDSA).
jwt_sign() {
    local alg=$1 key=$2 input=$3
    case $alg in
    HS256 | HS384 | HS512)
        printf %s "$input" | openssl dgst -"sha${alg#HS}" -mac HMAC -macopt "key:$(cat "$key")" -binary | b64url ;;
    RS256 | RS384 | RS512)
        printf %s "$input" | openssl dgst -"sha${alg#RS}" -sign "$key" -binary | b64url ;;
    ES256)
        printf %s "$input" | openssl dgst -sha256 -sign "$key" -binary | der_to_raw | b64url ;;
    EdDSA)
        printf %s "$input" >"$BATS_TEST_TMPDIR/eddsa.in"
        openssl pkeyutl -sign -inkey "$key" -rawin -in "$BATS_TEST_TMPDIR/eddsa.in" | b64url ;;
    none) ;;
    esac
}

# jwt_mint ALG KEY PAYLOAD [HEADER]: a compact token.
jwt_mint() {
    local alg=$1 key=$2 payload=$3 header=${4:-}
    [ -n "$header" ] || header="{\"alg\":\"$alg\",\"typ\":\"JWT\"}"
    local input
    input="$(printf %s "$header" | b64url).$(printf %s "$payload" | b64url)"
    printf '%s.%s' "$input" "$(jwt_sign "$alg" "$key" "$input")"
}

# jwt_keys DIR: a secret and RSA, EC P-256 and Ed25519 key pairs in DIR.
jwt_keys() {
    local dir=$1
    head -c 48 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$dir/secret"
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$dir/rsa.pem" 2>/dev/null
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$dir/ec.pem" 2>/dev/null
    openssl genpkey -algorithm ED25519 -out "$dir/ed.pem" 2>/dev/null
    local k
    for k in rsa ec ed; do openssl pkey -in "$dir/$k.pem" -pubout -out "$dir/$k.pub" 2>/dev/null; done
}

# now_plus SECONDS: the epoch time that far away.
now_plus() { echo $(($(date +%s) + $1)); }
