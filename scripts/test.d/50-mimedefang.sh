#!/usr/bin/env bash
# End-to-end test of examples/mimedefang/mimedefang-filter: Debian's MIMEDefang 3.x
# (mimedefang-multiplexor + the mimedefang milter) running the example filter, which calls
# libmailwarden through Mail::Warden, behind a real, private Postfix.
#
# As in 30-milter-postfix.sh: everything listens on 127.0.0.1 on free ports picked at run time,
# with its own configuration, queue, spool, sockets, pid files and logs under a temporary
# directory; the system Postfix and /var/spool/MIMEDefang are not touched. Postfix relays
# accepted mail to smtp-sink, which writes each message to a file in $T/sink.
#
#   swaks -> smtpd :SMTP --milter--> mimedefang :MD --$T/run/mx.sock--> mimedefang-multiplexor
#            -> mimedefang.pl -f examples/mimedefang/mimedefang-filter -> Mail::Warden
#   qmgr -> smtp -> smtp-sink :SINK -> $T/sink/*
#
# mailwarden runs with a configuration that adds one local rule (MW_TEST_SPAMMY, 6.5 points)
# to the built-in EICAR and GTUBE, so a "spammy" message exists between the required score (5)
# and the kill level (10).
# Checks: EICAR and GTUBE rejected in the SMTP dialogue with the filter's texts and not
# delivered; a clean message delivered with X-Spam-Score (a forged one replaced); a spammy one
# delivered with [SPAM] in the subject; a Windows executable attachment dropped with a warning
# part and the rest delivered, also inside a forwarded message; the same verdicts with the
# embedded Perl interpreter (Debian's default); a mailwarden configuration that does not load
# makes MIMEDefang tempfail. Takes about 12 s. Needs root (Postfix drops to its own users).
# MIMEDefang refuses to run as root: it runs as MD_USER (default defang, the user Debian's
# package creates). Set KEEP=1 to keep $T for inspection.
set -euo pipefail
cd "$(dirname "$0")/../.."
PROFILE=${PROFILE:-release}
[ "$(id -u)" = 0 ] || { echo "50-mimedefang: needs root to run a private Postfix" >&2; exit 1; }
for tool in postfix smtp-sink swaks python3 mimedefang mimedefang-multiplexor mimedefang.pl; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || { echo "missing $tool (run scripts/setup.sh)" >&2; exit 1; }
done
export PATH="$PATH:/usr/sbin"
MD_USER=${MD_USER:-defang}
id "$MD_USER" >/dev/null 2>&1 || { echo "50-mimedefang: no user $MD_USER (install mimedefang)" >&2; exit 1; }

T=$(mktemp -d /tmp/mw-mimedefang.XXXXXX)
chmod 755 "$T"
PIDS=()
cleanup() {
  set +e
  stop_test_processes
  # The milter and the multiplexor (which stops its workers) write pid files.
  [ -s "$T/run/mimedefang.pid" ] && kill "$(cat "$T/run/mimedefang.pid")" 2>/dev/null
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  echo "--- postfix log (tail)" >&2; tail -n 30 "$T/postfix.log" >&2 2>/dev/null || true
  echo "--- mimedefang.pl stderr (tail)" >&2; tail -n 30 "$T/worker.log" >&2 2>/dev/null || true
  echo "--- mimedefang / multiplexor output (tail)" >&2; tail -n 30 "$T"/md*.out >&2 2>/dev/null || true
  exit 1
}

# shellcheck source=scripts/test.d/lib/postfix.sh
source scripts/test.d/lib/postfix.sh
SMTP=$(free_port); SINK=$(free_port); MD=$(free_port)
wait_file() { # path seconds
  local i
  for ((i = 0; i < $2 * 10; i++)); do [ -e "$1" ] && return 0; sleep 0.1; done
  return 1
}

# --- the library, the filter and its configuration ------------------------------------------
cargo build --lib --quiet $([ "$PROFILE" = release ] && echo --release)
[ -f "target/$PROFILE/libmailwarden.so" ] || fail "no target/$PROFILE/libmailwarden.so"
# MIMEDefang runs as $MD_USER, who may not be able to read the checkout (under /root, say):
# the library, the module and the filter are copied under $T, as an installation would place
# them.
mkdir -p "$T/mailwarden" "$T/install/lib" "$T/install/perl"
cp "target/$PROFILE/libmailwarden.so" "$T/install/lib/"
cp -R bindings/perl/lib/. "$T/install/perl/"
cp examples/mimedefang/mimedefang-filter "$T/install/"
chmod -R a+rX "$T/install"
LIB="$T/install/lib/libmailwarden.so"
FILTER="$T/install/mimedefang-filter"
PERLLIB="$T/install/perl"
cat >"$T/mailwarden/local.cf" <<'CF'
body     MW_TEST_SPAMMY  /mailwarden-spammy-marker/
describe MW_TEST_SPAMMY  Test rule: a message the MIMEDefang test wants tagged
score    MW_TEST_SPAMMY  6.5
CF
printf '[rules]\npaths = ["local.cf"]\n' >"$T/mailwarden/mailwarden.toml"

# The filter compiles (mimedefang.pl's own check).
PERL5LIB="$PERLLIB" MAILWARDEN_LIB="$LIB" \
  /usr/bin/mimedefang.pl -f "$FILTER" -test >"$T/syntax.out" 2>&1 || fail "filter does not compile: $(cat "$T/syntax.out")"

# --- MIMEDefang ----------------------------------------------------------------------------
mkdir -p "$T/spool" "$T/run"
chmod 700 "$T/spool"
touch "$T/worker.log"
chown "$MD_USER" "$T/spool" "$T/run" "$T/worker.log"

# start_multiplexor MODE CONFIG: MODE "forked" runs each worker as a mimedefang.pl process
# through a wrapper that keeps the workers' standard error in $T/worker.log (there is no
# syslog here); MODE "embedded" (-E, Debian's default MX_EMBED_PERL=yes) loads the filter
# into the multiplexor's own Perl and forks workers from it. The filter and Mail::Warden find
# their files through the environment, as under Debian's systemd unit.
MX_PID=
start_multiplexor() {
  local mode=$1 config=$2 program
  rm -f "$T/run/mx.sock"
  if [ "$mode" = forked ]; then
    program=(-f "$T/mimedefang-wrapper")
    cat >"$T/mimedefang-wrapper" <<SH
#!/bin/sh
exec /usr/bin/mimedefang.pl -f "$FILTER" "\$@" 2>>"$T/worker.log"
SH
    chmod 755 "$T/mimedefang-wrapper"
  else
    program=(-E -F "$FILTER")
  fi
  PERL5LIB="$PERLLIB" MAILWARDEN_LIB="$LIB" MAILWARDEN_CONFIG="$config" \
    mimedefang-multiplexor -D -U "$MD_USER" -z "$T/spool" -s "$T/run/mx.sock" \
    -p "$T/run/multiplexor.pid" "${program[@]}" -m 1 -x 2 -r 500 -b 60 >>"$T/md-multiplexor.out" 2>&1 &
  MX_PID=$!
  PIDS+=($MX_PID)
  wait_file "$T/run/mx.sock" 10 || fail "mimedefang-multiplexor ($mode) did not create $T/run/mx.sock"
}
stop_multiplexor() {
  kill "$MX_PID"
  wait "$MX_PID" 2>/dev/null || true
}

start_multiplexor forked "$T/mailwarden/mailwarden.toml"
mimedefang -D -U "$MD_USER" -z "$T/spool" -m "$T/run/mx.sock" -p "inet:$MD@127.0.0.1" -P "$T/run/mimedefang.pid" \
  >"$T/md-milter.out" 2>&1 &
PIDS+=($!)
wait_port "$MD" 10 || fail "mimedefang did not listen on $MD"

# --- the sink and a private Postfix (scripts/test.d/lib/postfix.sh) --------------------------
start_sink "$SINK" 64
start_postfix postfix-mwmdtest "$SINK" "$MD" "127.0.0.1:$SMTP  inet n - n - 10 smtpd"
echo "postfix on 127.0.0.1:$SMTP, mimedefang on $MD, multiplexor on $T/run/mx.sock, sink on $SINK ($T)"

# --- messages through SMTP ------------------------------------------------------------------
# A DOS executable header: banned by type (detected dos-exe), whatever its name.
printf 'MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00\xb8\x00\x00\x00\x00\x00\x00\x00\x40\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\x00\x00\x00' >"$T/setup.exe"

send() { smtp_send "$SMTP" "$@"; } # subject [swaks args...]

out=$(send "eicar attachment" --attach-type application/octet-stream --attach "@$T/eicar.com")
grep -q -F '<** 554 5.7.1 Message contains Eicar-Test-Signature virus, rejected' <<<"$out" \
  || fail "EICAR not rejected with the virus reply: $out"
out=$(send "gtube" --body "$GTUBE")
grep -q -F '<** 554 5.7.1 Message seems to be spam, rejected' <<<"$out" \
  || fail "GTUBE not rejected with the spam reply: $out"
echo "ok: EICAR and GTUBE rejected in the SMTP dialogue with the filter's texts"

out=$(send "clean hello" --add-header "X-Spam-Score: -100.0 () FORGED" --body "Lunch at noon on Friday?")
grep -q -E '^<-  250 2\.0\.0 Ok: queued as' <<<"$out" || fail "clean message not accepted: $out"
wait_delivered "clean hello" 30 || fail "clean message not delivered"
f=$(delivered "clean hello")
grep -q -x -F 'X-Spam-Score: 0.0 () none' "$f" || fail "no X-Spam-Score on the clean message: $(cat "$f")"
[ "$(grep -c '^X-Spam-Score:' "$f")" = 1 ] || fail "the forged X-Spam-Score was kept: $(cat "$f")"
grep -q '^X-Scanned-By: MIMEDefang' "$f" || fail "the clean message did not pass through MIMEDefang"
echo "ok: clean message delivered with X-Spam-Score: 0.0 () none (the forged one replaced)"

out=$(send "spammy one" --body "Cheap offer, mailwarden-spammy-marker, act now")
grep -q -E '^<-  250 ' <<<"$out" || fail "spammy message not accepted: $out"
wait_delivered "[SPAM] spammy one" 30 || fail "spammy message not delivered with [SPAM] in the subject"
f=$(delivered "[SPAM] spammy one")
grep -q -x -F 'X-Spam-Score: 6.5 (******) MW_TEST_SPAMMY' "$f" || fail "spammy X-Spam-Score wrong: $(cat "$f")"
echo "ok: spammy message delivered as '[SPAM] spammy one' with X-Spam-Score: 6.5 (******) MW_TEST_SPAMMY"

out=$(send "banned attachment" --body "The installer is attached." \
  --attach-type application/octet-stream --attach-name setup.exe --attach "@$T/setup.exe")
grep -q -E '^<-  250 ' <<<"$out" || fail "message with a banned attachment not accepted: $out"
wait_delivered "banned attachment" 30 || fail "message with a banned attachment not delivered"
f=$(delivered "banned attachment")
grep -q 'An attachment named setup.exe was removed from this document' "$f" || fail "no warning part: $(cat "$f")"
grep -q 'The installer is attached.' "$f" || fail "the text part was lost: $(cat "$f")"
! grep -q -e 'name="\?setup.exe' -e '^TVqQ' "$f" || fail "the banned attachment was delivered: $(cat "$f")"
echo "ok: banned setup.exe dropped with a warning part, the rest delivered"

# The same inside a forwarded message (message/rfc822 > multipart > part 2): the filter ties
# mailwarden's part path "2/2" to MIME-tools' entity.
exe_b64=$(base64 -w 76 "$T/setup.exe")
cat >"$T/forwarded.eml" <<EML
From: sender@example.org
To: rcpt@example.net
Subject: forwarded installer
Date: Mon, 1 Jan 2024 00:00:00 +0000
Message-ID: <forwarded@example.org>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: text/plain

See the forwarded message.
--outer
Content-Type: message/rfc822

From: someone@example.com
Subject: the installer
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="inner"

--inner
Content-Type: text/plain

Inner text stays.
--inner
Content-Type: application/octet-stream
Content-Transfer-Encoding: base64

$exe_b64
--inner--
--outer--
EML
out=$(swaks --server 127.0.0.1 --port "$SMTP" --helo client.example.org --from sender@example.org \
  --to rcpt@example.net --data "@$T/forwarded.eml" 2>&1 || true)
grep -q -E '^<-  250 ' <<<"$out" || fail "forwarded message not accepted: $out"
wait_delivered "forwarded installer" 30 || fail "forwarded message not delivered"
f=$(delivered "forwarded installer")
grep -q 'An attachment of type application/octet-stream was removed' "$f" || fail "no warning for the nested part: $(cat "$f")"
grep -q 'Inner text stays.' "$f" || fail "the nested text part was lost: $(cat "$f")"
! grep -q -F "${exe_b64:0:20}" "$f" || fail "the nested executable was delivered: $(cat "$f")"
echo "ok: an unnamed executable inside a forwarded message dropped, the rest delivered"

wait_queue_empty 30 || fail "queue not empty"
[ -z "$(delivered "eicar attachment")" ] || fail "EICAR message was delivered"
[ -z "$(delivered "gtube")" ] || fail "GTUBE message was delivered"
[ ! -s "$T/worker.log" ] || fail "mimedefang.pl wrote errors: $(cat "$T/worker.log")"

# Debian's default, the embedded Perl interpreter: the same verdicts.
stop_multiplexor
start_multiplexor embedded "$T/mailwarden/mailwarden.toml"
out=$(send "embedded eicar" --attach-type application/octet-stream --attach "@$T/eicar.com")
grep -q -F '<** 554 5.7.1 Message contains Eicar-Test-Signature virus, rejected' <<<"$out" \
  || fail "embedded: EICAR not rejected with the virus reply: $out"
out=$(send "embedded clean" --body "Hello again.")
grep -q -E '^<-  250 ' <<<"$out" || fail "embedded: clean message not accepted: $out"
wait_delivered "embedded clean" 30 || fail "embedded: clean message not delivered"
grep -q -x -F 'X-Spam-Score: 0.0 () none' "$(delivered "embedded clean")" || fail "embedded: no X-Spam-Score"
echo "ok: the same with MIMEDefang's embedded Perl (-E)"

# A mailwarden configuration that does not load: the workers fail in filter_initialize, and
# MIMEDefang tempfails instead of passing mail unscanned.
printf '[policy]\nkil_level = 8.0\n' >"$T/mailwarden/broken.toml"
stop_multiplexor
start_multiplexor forked "$T/mailwarden/broken.toml"
out=$(send "unscanned" --body "Should not pass unscanned.")
grep -q -E '^<\*\* 4[0-9][0-9] ' <<<"$out" || fail "broken configuration: not tempfailed: $out"
{ grep -q 'MW_RESULT_CONFIG' "$T/worker.log" && grep -q 'unknown field .kil_level.' "$T/worker.log"; } || fail "the worker did not say why: $(cat "$T/worker.log")"
sleep 1
[ -z "$(delivered "unscanned")" ] || fail "a message passed unscanned"
echo "ok: a broken mailwarden configuration makes MIMEDefang tempfail ($(grep -o -m1 '4[0-9][0-9] [0-9.]*' <<<"$out"))"
echo "50-mimedefang: all passed"
