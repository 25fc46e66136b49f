# A private Postfix for the end-to-end tests, sourced by 30-milter-postfix.sh and
# 50-mimedefang.sh (scripts/test.sh runs only scripts/test.d/*.sh, not this file).
#
# Everything listens on 127.0.0.1 on ports the caller picks with free_port, and lives under
# the caller's temporary directory $T: configuration in $T/etc, queue in $T/queue, log in
# $T/postfix.log. Postfix relays accepted mail to smtp-sink, which writes each message to a
# file in $T/sink, so "delivered" means "a file in $T/sink". The caller defines fail().

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_port() { # port seconds
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$1),1)" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# start_sink PORT PROCESSES: smtp-sink on PORT writing to $T/sink; sets SINK_PID.
SINK_PID=
start_sink() {
  mkdir -p "$T/sink"
  chown postfix "$T/sink"
  smtp-sink -u postfix -d "$T/sink/%Y%m%d%H%M%S." "127.0.0.1:$1" "$2" &
  SINK_PID=$!
  wait_port "$1" 10 || fail "smtp-sink did not start"
}

# start_postfix NAME SINK_PORT MILTER_PORT SMTPD_LINES: writes main.cf (syslog name NAME,
# relaying to the sink, the milter on MILTER_PORT by default, tempfail when it is down) and
# master.cf (the SMTPD_LINES, one `127.0.0.1:PORT inet ... smtpd ...` service each, then the
# standard services), starts Postfix and waits for the first smtpd port.
start_postfix() {
  local name=$1 sink=$2 milter=$3 smtpd=$4
  mkdir -p "$T/etc" "$T/queue" "$T/data"
  chown postfix "$T/data"
  cat >"$T/etc/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $T/queue
data_directory = $T/data
mail_owner = postfix
setgid_group = postdrop
syslog_name = $name
maillog_file_prefixes = $T
maillog_file = $T/postfix.log
myhostname = mx.mailwarden.test
mydomain = mailwarden.test
myorigin = \$myhostname
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_recipient_restrictions = permit_mynetworks, reject
relayhost = [127.0.0.1]:$sink
smtp_dns_support_level = disabled
disable_dns_lookups = yes
smtpd_peername_lookup = no
smtpd_milters = inet:127.0.0.1:$milter
milter_default_action = tempfail
milter_protocol = 6
milter_connect_timeout = 5s
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 10000
smtpd_hard_error_limit = 10000
smtpd_client_connection_count_limit = 0
in_flow_delay = 0
default_destination_concurrency_limit = 20
queue_run_delay = 5s
minimal_backoff_time = 5s
maximal_backoff_time = 10s
biff = no
CF
  {
    printf '%s\n' "$smtpd"
    cat <<CF
pickup    unix  n - n 60   1 pickup
cleanup   unix  n - n -    0 cleanup
qmgr      unix  n - n 300  1 qmgr
rewrite   unix  - - n -    - trivial-rewrite
bounce    unix  - - n -    0 bounce
defer     unix  - - n -    0 bounce
trace     unix  - - n -    0 bounce
verify    unix  - - n -    1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n -    - proxymap
smtp      unix  - - n -    - smtp
relay     unix  - - n -    - smtp
showq     unix  n - n -    - showq
error     unix  - - n -    - error
retry     unix  - - n -    - error
discard   unix  - - n -    - discard
anvil     unix  - - n -    1 anvil
scache    unix  - - n -    1 scache
postlog   unix-dgram n - n - 1 postlogd
CF
  } >"$T/etc/master.cf"
  local first
  first=$(sed -n '1s/^127\.0\.0\.1:\([0-9]*\).*/\1/p' <<<"$smtpd")
  postfix -c "$T/etc" check || fail "postfix check (see $T/postfix.log)"
  postfix -c "$T/etc" start >/dev/null 2>&1 || fail "postfix did not start: $(postfix -c "$T/etc" start 2>&1)"
  wait_port "$first" 20 || fail "postfix smtpd did not listen on $first"
}

# stop_test_processes: Postfix and the sink (for the caller's cleanup; never fails).
stop_test_processes() {
  postfix -c "$T/etc" stop >/dev/null 2>&1
  [ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null
  return 0
}

# The EICAR test file in $T/eicar.com and the GTUBE string.
printf '%s%s\n' 'X5O!P%@AP[4\PZX54(P^)7CC)7}$' 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*' >"$T/eicar.com"
# shellcheck disable=SC2034 # used by the sourcing scripts
GTUBE='XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X'

smtp_send() { # port subject [swaks args...]; prints the SMTP conversation
  local port=$1 subject=$2
  shift 2
  swaks --server 127.0.0.1 --port "$port" --helo client.example.org \
    --from sender@example.org --to rcpt@example.net \
    --header "Subject: $subject" "$@" 2>&1 || true
}
# Files in the sink holding a message with this exact subject line.
delivered() { grep -l -F -x -- "Subject: $1" "$T"/sink/* 2>/dev/null || true; }
wait_delivered() { # subject seconds
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    [ -n "$(delivered "$1")" ] && return 0
    sleep 0.1
  done
  return 1
}
queue_empty() { [ -z "$(find "$T/queue/incoming" "$T/queue/active" "$T/queue/deferred" "$T/queue/maildrop" -type f 2>/dev/null)" ]; }
wait_queue_empty() { # seconds
  local i
  for ((i = 0; i < $1 * 10; i++)); do queue_empty && return 0; sleep 0.1; done
  return 1
}
