#!/usr/bin/env bash
# A private Postfix instance for the real-MTA tests of transport/smtp:
# listening on 127.0.0.1:20025 only, delivering mail for customer.example
# to a Maildir, bouncing mail for bounce.example (5.1.1, as a server
# that knows no such mailbox) and relaying mail for shop.example to
# 127.0.0.1:20026 (where the tests run the SMTP server adapter). It
# leaves the system's own Postfix configuration alone. Other ports, for a
# machine where those are taken: EMAILFLOW_POSTFIX_PORT and
# EMAILFLOW_POSTFIX_RELAY_PORT; the tests read them from DIR/ports.
#
#   .ci/postfix.sh start DIR   configure and start it in DIR (created)
#   .ci/postfix.sh stop DIR    stop it
#
# After start, the tests find it with:
#   EMAILFLOW_POSTFIX_DIR=DIR go test ./transport/smtp -run Postfix
set -euo pipefail

cmd=${1:?start or stop}
dir=${2:?directory}

case "$cmd" in
stop)
  if [ -f "$dir/main.cf" ]; then
    postfix -c "$dir" stop >/dev/null 2>&1 || true
  fi
  exit 0
  ;;
start) ;;
*)
  echo "usage: $0 start|stop DIR" >&2
  exit 2
  ;;
esac

command -v postfix >/dev/null || { echo "postfix is not installed" >&2; exit 1; }
port=${EMAILFLOW_POSTFIX_PORT:-20025}
relay=${EMAILFLOW_POSTFIX_RELAY_PORT:-20026}
mkdir -p "$dir/mail"
chmod 755 "$dir" # Postfix's daemons and the delivery user go through it
dir=$(cd "$dir" && pwd)
postfix -c "$dir" stop >/dev/null 2>&1 || true

if [ ! -f "$dir/cert.pem" ]; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 7 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null
fi

cat >"$dir/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $dir/queue
data_directory = $dir/data
maillog_file = $dir/maillog
maillog_file_prefixes = $dir
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = postfix.emailflow.test
mydomain = emailflow.test
myorigin = \$myhostname
mydestination =
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
local_recipient_maps =
biff = no
smtputf8_enable = yes
message_size_limit = 52428800
smtp_dns_support_level = disabled
smtp_host_lookup = native
smtpd_helo_required = yes
smtpd_helo_restrictions = reject_invalid_helo_hostname, reject_non_fqdn_helo_hostname
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
# Take mail for bounce.example in, so that it bounces after the fact, as
# a server that accepts first and finds out later does.
smtpd_reject_unlisted_recipient = no
smtpd_tls_cert_file = $dir/cert.pem
smtpd_tls_key_file = $dir/key.pem
smtpd_tls_security_level = may
smtp_tls_security_level = may
relay_domains = shop.example
transport_maps = inline:{ shop.example=smtp:[127.0.0.1]:$relay, { bounce.example = error:5.1.1 mailbox unavailable } }
virtual_mailbox_domains = customer.example
virtual_mailbox_base = $dir/mail
virtual_mailbox_maps = static:customer/
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
virtual_mailbox_limit = 0
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
EOF

cat >"$dir/master.cf" <<EOF
127.0.0.1:$port inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n -  0 cleanup
qmgr      unix  n - n 300 1 qmgr
tlsmgr    unix  - - n 1000? 1 tlsmgr
rewrite   unix  - - n -  - trivial-rewrite
bounce    unix  - - n -  0 bounce
defer     unix  - - n -  0 bounce
trace     unix  - - n -  0 bounce
verify    unix  - - n -  1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n -  - proxymap
smtp      unix  - - n -  - smtp
relay     unix  - - n -  - smtp
showq     unix  n - n -  - showq
error     unix  - - n -  - error
retry     unix  - - n -  - error
discard   unix  - - n -  - discard
virtual   unix  - n n -  - virtual
anvil     unix  - - n -  1 anvil
scache    unix  - - n -  1 scache
postlog   unix-dgram n - n - 1 postlogd
EOF

mkdir -p "$dir/queue" "$dir/data"
chown postfix "$dir/data"
chown 65534:65534 "$dir/mail"
postfix -c "$dir" check >/dev/null 2>&1 || postfix -c "$dir" check
postfix -c "$dir" start
for _ in $(seq 1 50); do
  if (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then
    echo "127.0.0.1:$port 127.0.0.1:$relay" >"$dir/ports"
    exit 0
  fi
  sleep 0.2
done
echo "postfix did not start listening on 127.0.0.1:$port; its log:" >&2
cat "$dir/maillog" >&2 || true
exit 1
