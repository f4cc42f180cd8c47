#!/usr/bin/env bash
# A throw-away Dovecot for transport/imap's tests against a real IMAP
# server: one user on 127.0.0.1, plaintext login allowed (loopback only),
# Maildir in a temporary folder, nothing of the system's Dovecot used.
#
#   .ci/dovecot.sh start DIR [PORT]   install if needed, configure in DIR, start;
#                                     prints the EMAILFLOW_DOVECOT_* variables
#   .ci/dovecot.sh stop DIR           stop it and remove DIR
set -euo pipefail

cmd=${1:?start or stop}
dir=${2:?a folder}
port=${3:-21143}
user=support
pass=dovecot-test-password

case "$cmd" in
start)
  if ! command -v dovecot >/dev/null 2>&1 || [ ! -e /usr/lib/dovecot/imap ]; then
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=300 dovecot-imapd >&2
    # Where the package started the system's Dovecot (ports 143 and 993),
    # stop it: only ours runs, on its own port.
    doveadm stop >/dev/null 2>&1 || true
  fi
  mkdir -p "$dir/run" "$dir/state" "$dir/mail"
  # The mail belongs to nobody: Dovecot refuses root for mail access.
  chown nobody:nogroup "$dir/mail"
  chmod 755 "$dir"
  echo "$user:{PLAIN}$pass" >"$dir/users"
  cat >"$dir/dovecot.conf" <<CONF
base_dir = $dir/run
state_dir = $dir/state
log_path = $dir/dovecot.log
instance_name = emailflow-test-$port
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:$dir/mail/%u
mail_max_userip_connections = 50
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $dir/users
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$dir/mail/%u
}
# Login processes kept and reused (Dovecot's performance mode): a new
# process per connection costs a tenth of a second on a busy machine.
service imap-login {
  service_count = 0
  process_min_avail = 1
  inet_listener imap {
    address = 127.0.0.1
    port = $port
  }
  inet_listener imaps {
    port = 0
  }
}
service auth {
  unix_listener auth-userdb {
    mode = 0666
  }
}
CONF
  dovecot -c "$dir/dovecot.conf"
  for _ in $(seq 1 50); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "export EMAILFLOW_DOVECOT_ADDR=127.0.0.1:$port EMAILFLOW_DOVECOT_USER=$user EMAILFLOW_DOVECOT_PASSWORD=$pass"
      exit 0
    fi
    sleep 0.2
  done
  echo "Dovecot did not start; its log:" >&2
  cat "$dir/dovecot.log" >&2 || true
  exit 1
  ;;
stop)
  if [ -f "$dir/dovecot.conf" ]; then
    doveadm -c "$dir/dovecot.conf" stop 2>/dev/null || true
    # Wait for the master to go, so the port is free for the next run.
    for _ in $(seq 1 50); do
      [ -e "$dir/run/master.pid" ] && kill -0 "$(cat "$dir/run/master.pid")" 2>/dev/null || break
      sleep 0.1
    done
  fi
  rm -rf "$dir"
  ;;
*)
  echo "usage: $0 start|stop DIR [PORT]" >&2
  exit 2
  ;;
esac
