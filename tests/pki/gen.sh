#!/bin/sh
# tests/pki/gen.sh DIR: make a small test PKI with openssl (idempotent: does
# nothing when DIR/.complete exists). Every validity window is FIXED so tests
# can inject times; windows in UTC:
#   CAs            2020-01-01 00:00:00 .. 2099-12-31 23:59:59 (GeneralizedTime after 2049)
#   good leaves    2025-01-01 00:00:00 .. 2035-01-01 00:00:00 (UTCTime)
#   expired        2020-01-01 00:00:00 .. 2021-01-01 00:00:00
#   notyet         2090-01-01 00:00:00 .. 2095-01-01 00:00:00 (GeneralizedTime)
#
# Files (all PEM):
#   root.crt, root.key          test root CA (ECDSA P-256, self-signed) = the trust store
#   int.crt, int.key            intermediate CA (ECDSA P-256), issued by root, pathlen 0
#   K.crt                       leaf issued by int, K in: ec256 ec384 rsa2048 rsa4096
#                               SAN DNS:localhost, DNS:nts.test, IP:127.0.0.1, IP:::1;
#                               EKU serverAuth; CN=localhost
#   K.fullchain.pem             K.crt + int.crt (as Let's Encrypt writes fullchain.pem)
#   ecNNN.sec1.key              EC key, SEC1 "EC PRIVATE KEY"
#   ecNNN.pkcs8.key             same key, PKCS#8 "PRIVATE KEY"
#   rsaNNNN.pkcs1.key           RSA key, PKCS#1 "RSA PRIVATE KEY"
#   rsaNNNN.pkcs8.key           same key, PKCS#8 "PRIVATE KEY"
# Negative fixtures (ECDSA P-256 keys, X.key in PKCS#8, X.crt, X.fullchain.pem):
#   expired      issued by int, good names, window 2020..2021
#   notyet       issued by int, good names, window 2090..2095
#   wrongname    issued by int, SAN DNS:wrong.test only
#   wildcard     issued by int, SAN DNS:*.nts.test only
#   cnonly       issued by int, CN=localhost and no subjectAltName at all
#   clientauth   issued by int, good names, EKU clientAuth only
#   untrusted    issued by untrusted-root.crt (an unrelated self-signed root,
#                key untrusted-root.key), good names; fullchain = leaf + that root
# Chain policy fixtures (X.key, X.crt, X.fullchain.pem = leaf + its issuer;
# leaves have the good names and ECDSA P-256 keys unless said otherwise):
#   sha1leaf        leaf signed by int with SHA-1
#   sha1int-leaf    under sha1int.crt, an intermediate that root signed with SHA-1
#   sha1root-leaf   under sha1root.crt, a self-signed root whose own signature is
#                   SHA-1 (the leaf's is SHA-256); trusted through sha1root.crt
#   rsa1024         1024-bit RSA leaf (key rsa1024.key) issued by int
#   rsa1024int-leaf under rsa1024int.crt, an intermediate with a 1024-bit RSA key
#   weakroot-leaf   under weakroot.crt, a self-signed root with a 1024-bit RSA key
#   caleaf          leaf with basicConstraints CA:TRUE (and keyCertSign)
#   ekuint-leaf     under ekuint.crt: intermediate with extKeyUsage clientAuth
#   anyekuint-leaf  under anyekuint.crt: extKeyUsage anyExtendedKeyUsage only
#   srvekuint-leaf  under srvekuint.crt: extKeyUsage serverAuth, clientAuth
#   ncint-in/-out   under ncint.crt: NON-critical nameConstraints permitted
#                   DNS:nts.test; -in has SAN DNS:nts.test, DNS:a.nts.test, -out
#                   the good names (DNS:localhost is outside)
#   nccint-in/-out  the same under nccint.crt, the constraint marked critical
#   ncxint-in       under ncxint.crt (critical: excluded DNS:localhost and
#                   DNS:bad.nts.test, permitted IP:127.0.0.0/8): SAN DNS:nts.test,
#                   IP:127.0.0.1; -out: the good names (localhost excluded);
#                   -ip: SAN DNS:nts.test, IP:::1 (no permitted IPv6 subtree);
#                   -wild: SAN DNS:*.nts.test (may name bad.nts.test)
#   ncdint-leaf     under ncdint.crt: critical permitted directoryName only
#   nccint2-in/-out the same under nccint2.crt (critical), itself under
#                   nccmid.crt (pathlen 1) under root; fullchain: leaf, nccint2, nccmid
#   nccint3-in      under nccint3.crt (critical) under int.crt, whose pathlen 0
#                   this chain exceeds; fullchain: leaf, nccint3, int
#   ncroot-in/-out  under ncroot.crt, a self-signed root with critical permitted
#                   DNS:nts.test; trusted through ncroot.crt
set -eu
DIR=${1:?usage: gen.sh DIR}
mkdir -p "$DIR"
# .complete-3: the set of files below (a directory made by an older gen.sh,
# with only .complete, is made again)
[ -f "$DIR/.complete-3" ] && exit 0
cd "$DIR"
rm -rf ca.db && mkdir ca.db
: > ca.db/index.txt
echo 1000 > ca.db/serial

CA_START=20200101000000Z CA_END=20991231235959Z
GOOD_START=20250101000000Z GOOD_END=20350101000000Z

cat > ca.cnf <<'EOF'
[ ca ]
default_ca = testca
[ testca ]
dir = .
database = ./ca.db/index.txt
new_certs_dir = ./ca.db
serial = ./ca.db/serial
unique_subject = no
default_md = sha256
policy = pol_any
copy_extensions = none
email_in_dn = no
[ pol_any ]
commonName = supplied
organizationName = optional
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ v3_root ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ v3_int ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ v3_leaf_ec ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, DNS:nts.test, IP:127.0.0.1, IP:::1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ v3_leaf_rsa ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, DNS:nts.test, IP:127.0.0.1, IP:::1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ v3_wrongname ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:wrong.test
[ v3_wildcard ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:*.nts.test
[ v3_cnonly ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
[ v3_leaf_in ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:nts.test, DNS:a.nts.test
[ v3_leaf_ncx_in ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:nts.test, IP:127.0.0.1
[ v3_leaf_ncx_ip ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:nts.test, IP:::1
[ v3_leaf_ca ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, digitalSignature, keyCertSign
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, DNS:nts.test, IP:127.0.0.1, IP:::1
[ v3_int_eku_client ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
extendedKeyUsage = clientAuth
[ v3_int_eku_any ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
extendedKeyUsage = anyExtendedKeyUsage
[ v3_int_eku_server ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
extendedKeyUsage = serverAuth, clientAuth
[ v3_int_nc ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
nameConstraints = permitted;DNS:nts.test
[ v3_int_ncc ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
nameConstraints = critical, permitted;DNS:nts.test
[ v3_int_ncx ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
nameConstraints = critical, excluded;DNS:localhost, excluded;DNS:bad.nts.test, permitted;IP:127.0.0.0/255.0.0.0
[ v3_int_ncd ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
nameConstraints = critical, permitted;dirName:nc_dir
[ nc_dir ]
O = ntskit test
[ v3_int1 ]
basicConstraints = critical, CA:TRUE, pathlen:1
keyUsage = critical, keyCertSign, cRLSign
[ v3_root_nc ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
nameConstraints = critical, permitted;DNS:nts.test
[ v3_clientauth ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectAltName = DNS:localhost, DNS:nts.test, IP:127.0.0.1, IP:::1
EOF

q() { "$@" >/dev/null 2>&1 || { echo "gen.sh: failed: $*" >&2; "$@" >&2; exit 1; }; }

eckey() { q openssl genpkey -algorithm EC -pkeyopt "ec_paramgen_curve:$2" -pkeyopt ec_param_enc:named_curve -out "$1"; }
rsakey() { q openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:$2" -out "$1"; }

# sign NAME KEY CN EXT START END CACERT CAKEY
sign() {
  q openssl req -new -config ca.cnf -key "$2" -subj "/CN=$3/O=ntskit test" -out "$1.csr"
  q openssl ca -batch -config ca.cnf -notext -rand_serial -md sha256 -in "$1.csr" \
    -cert "$7" -keyfile "$8" -extensions "$4" -startdate "$5" -enddate "$6" -out "$1.crt"
  rm -f "$1.csr"
}

# root and intermediate
eckey root.key P-256
q openssl req -new -config ca.cnf -key root.key -subj "/CN=ntskit test root/O=ntskit test" -out root.csr
q openssl ca -batch -config ca.cnf -notext -rand_serial -md sha256 -selfsign -in root.csr \
  -keyfile root.key -extensions v3_root -startdate $CA_START -enddate $CA_END -out root.crt
rm -f root.csr
eckey int.key P-256
q openssl req -new -config ca.cnf -key int.key -subj "/CN=ntskit test intermediate/O=ntskit test" -out int.csr
q openssl ca -batch -config ca.cnf -notext -rand_serial -md sha256 -in int.csr \
  -cert root.crt -keyfile root.key -extensions v3_int -startdate $CA_START -enddate $CA_END -out int.crt
rm -f int.csr

# good leaves, each key in both PEM forms
for c in 256 384; do
  eckey ec$c.pkcs8.key P-$c
  q openssl ec -in ec$c.pkcs8.key -out ec$c.sec1.key
  sign ec$c ec$c.pkcs8.key localhost v3_leaf_ec $GOOD_START $GOOD_END int.crt int.key
  cat ec$c.crt int.crt > ec$c.fullchain.pem
done
for b in 2048 4096; do
  rsakey rsa$b.pkcs8.key $b
  q openssl rsa -traditional -in rsa$b.pkcs8.key -out rsa$b.pkcs1.key
  sign rsa$b rsa$b.pkcs8.key localhost v3_leaf_rsa $GOOD_START $GOOD_END int.crt int.key
  cat rsa$b.crt int.crt > rsa$b.fullchain.pem
done

# negative fixtures
neg() { # NAME CN EXT START END
  eckey "$1.key" P-256
  sign "$1" "$1.key" "$2" "$3" "$4" "$5" int.crt int.key
  cat "$1.crt" int.crt > "$1.fullchain.pem"
}
neg expired    localhost  v3_leaf_ec    20200101000000Z 20210101000000Z
neg notyet     localhost  v3_leaf_ec    20900101000000Z 20950101000000Z
neg wrongname  wrong.test v3_wrongname  $GOOD_START $GOOD_END
neg wildcard   '*.nts.test' v3_wildcard $GOOD_START $GOOD_END
neg cnonly     localhost  v3_cnonly     $GOOD_START $GOOD_END
neg clientauth localhost  v3_clientauth $GOOD_START $GOOD_END

eckey untrusted-root.key P-256
q openssl req -new -config ca.cnf -key untrusted-root.key -subj "/CN=ntskit untrusted root/O=elsewhere" -out ur.csr
q openssl ca -batch -config ca.cnf -notext -rand_serial -md sha256 -selfsign -in ur.csr \
  -keyfile untrusted-root.key -extensions v3_root -startdate $CA_START -enddate $CA_END -out untrusted-root.crt
rm -f ur.csr
eckey untrusted.key P-256
sign untrusted untrusted.key localhost v3_leaf_ec $GOOD_START $GOOD_END untrusted-root.crt untrusted-root.key
cat untrusted.crt untrusted-root.crt > untrusted.fullchain.pem

# chain policy fixtures
# leafunder NAME ISSUER EXT [MD [KEYTYPE]]: a leaf NAME issued by ISSUER.crt
leafunder() {
  case ${5:-ec} in ec) eckey "$1.key" P-256 ;; *) rsakey "$1.key" "$5" ;; esac
  q openssl req -new -config ca.cnf -key "$1.key" -subj "/CN=localhost/O=ntskit test" -out "$1.csr"
  q openssl ca -batch -config ca.cnf -notext -rand_serial -md "${4:-sha256}" -in "$1.csr" \
    -cert "$2.crt" -keyfile "$2.key" -extensions "$3" -startdate $GOOD_START -enddate $GOOD_END -out "$1.crt"
  rm -f "$1.csr"
  cat "$1.crt" "$2.crt" > "$1.fullchain.pem"
}
# caunder NAME ISSUER EXT [MD [KEYTYPE]]: an intermediate (ISSUER "-": self-signed root)
caunder() {
  case ${5:-ec} in ec) eckey "$1.key" P-256 ;; *) rsakey "$1.key" "$5" ;; esac
  q openssl req -new -config ca.cnf -key "$1.key" -subj "/CN=ntskit test $1/O=ntskit test" -out "$1.csr"
  if [ "$2" = - ]; then
    q openssl ca -batch -config ca.cnf -notext -rand_serial -md "${4:-sha256}" -selfsign -in "$1.csr" \
      -keyfile "$1.key" -extensions "$3" -startdate $CA_START -enddate $CA_END -out "$1.crt"
  else
    q openssl ca -batch -config ca.cnf -notext -rand_serial -md "${4:-sha256}" -in "$1.csr" \
      -cert "$2.crt" -keyfile "$2.key" -extensions "$3" -startdate $CA_START -enddate $CA_END -out "$1.crt"
  fi
  rm -f "$1.csr"
}
leafunder sha1leaf int v3_leaf_ec sha1
caunder sha1int root v3_int sha1
leafunder sha1int-leaf sha1int v3_leaf_ec
caunder sha1root - v3_root sha1
leafunder sha1root-leaf sha1root v3_leaf_ec
leafunder rsa1024 int v3_leaf_rsa sha256 1024
caunder rsa1024int root v3_int sha256 1024
leafunder rsa1024int-leaf rsa1024int v3_leaf_ec
caunder weakroot - v3_root sha256 1024
leafunder weakroot-leaf weakroot v3_leaf_ec
leafunder caleaf int v3_leaf_ca
caunder ekuint root v3_int_eku_client
leafunder ekuint-leaf ekuint v3_leaf_ec
caunder anyekuint root v3_int_eku_any
leafunder anyekuint-leaf anyekuint v3_leaf_ec
caunder srvekuint root v3_int_eku_server
leafunder srvekuint-leaf srvekuint v3_leaf_ec
caunder ncint root v3_int_nc
leafunder ncint-in ncint v3_leaf_in
leafunder ncint-out ncint v3_leaf_ec
caunder nccint root v3_int_ncc
leafunder nccint-in nccint v3_leaf_in
leafunder nccint-out nccint v3_leaf_ec
caunder ncxint root v3_int_ncx
leafunder ncxint-in ncxint v3_leaf_ncx_in
leafunder ncxint-out ncxint v3_leaf_ec
leafunder ncxint-ip ncxint v3_leaf_ncx_ip
leafunder ncxint-wild ncxint v3_wildcard
caunder ncdint root v3_int_ncd
leafunder ncdint-leaf ncdint v3_leaf_ec
caunder nccmid root v3_int1
caunder nccint2 nccmid v3_int_ncc
leafunder nccint2-in nccint2 v3_leaf_in
leafunder nccint2-out nccint2 v3_leaf_ec
cat nccmid.crt >> nccint2-in.fullchain.pem
cat nccmid.crt >> nccint2-out.fullchain.pem
caunder nccint3 int v3_int_ncc
leafunder nccint3-in nccint3 v3_leaf_in
cat int.crt >> nccint3-in.fullchain.pem
caunder ncroot - v3_root_nc
leafunder ncroot-in ncroot v3_leaf_in
leafunder ncroot-out ncroot v3_leaf_ec

rm -rf ca.db ca.cnf
chmod 600 ./*.key
touch .complete .complete-3
