#!/usr/bin/env bash
# End-to-end test of examples/milter/mailwarden-milter in front of a real, private Postfix.
#
# Everything listens on 127.0.0.1 only, on free ports picked at run time, with its own
# configuration directory, queue and log under a temporary directory; the system Postfix is
# not touched. Postfix relays accepted mail to smtp-sink, which writes each message to a
# file, so "delivered" means "a file in $T/sink".
#
#   smtpd :SMTP  --milter--> mailwarden-milter :MILTER      (the default policy)
#   smtpd :SMTP2 --milter--> mailwarden-milter :MILTER2     (kill_level 2000: GTUBE is spammy)
#   smtpd :SMTP3 --milter--> mailwarden-milter :MILTER3     (quarantine / tempfail / discard)
#   qmgr -> smtp -> smtp-sink :SINK -> $T/sink/*
#
# Checks: EICAR rejected with the virus reply and not delivered; GTUBE rejected as spam;
# a clean message delivered with X-Spam-Status; a spammy one delivered with the subject tag;
# 2,000 messages over 10 connections all accounted for; the milter killed mid-burst makes
# Postfix tempfail (nothing accepted unscanned) and the retried messages pass after a restart.
# Needs root (Postfix drops to its own users). Set KEEP=1 to keep $T for inspection.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
PROFILE=${PROFILE:-release}
[ -f "target/$PROFILE/libmailwarden.so" ] || PROFILE=debug
[ "$(id -u)" = 0 ] || { echo "30-milter-postfix: needs root to run a private Postfix" >&2; exit 1; }
for tool in postfix smtp-sink swaks python3 make cc; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || { echo "missing $tool (run scripts/setup.sh)" >&2; exit 1; }
done
export PATH="$PATH:/usr/sbin"

T=$(mktemp -d /tmp/mw-postfix.XXXXXX)
chmod 755 "$T"
MILTER_PIDS=()
cleanup() {
  set +e
  stop_test_processes
  for p in "${MILTER_PIDS[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  echo "--- postfix log (tail)" >&2; tail -n 30 "$T/postfix.log" >&2 2>/dev/null || true
  echo "--- milter log (tail)" >&2; tail -n 30 "$T"/milter*.log >&2 2>/dev/null || true
  exit 1
}

# shellcheck source=scripts/test.d/lib/postfix.sh
source scripts/test.d/lib/postfix.sh
SMTP=$(free_port); SMTP2=$(free_port); SMTP3=$(free_port); SINK=$(free_port)
MILTER=$(free_port); MILTER2=$(free_port); MILTER3=$(free_port)

# --- the milter -------------------------------------------------------------------------
cargo build --lib --quiet $([ "$PROFILE" = release ] && echo --release)
make -s -C examples/milter PROFILE="$PROFILE" OUT="$T/bin" >/dev/null
MILTER_BIN="$T/bin/mailwarden-milter"
printf '[policy]\nkill_level = 2000.0\n' >"$T/spammy.toml"
# The other destinies: virus quarantined, spam tempfailed, oversized discarded.
printf '[limits]\nmax_message_size = 20000\n[policy.destinies]\nvirus = "quarantine"\nspam = "tempfail"\noversized = "discard"\n' >"$T/destinies.toml"

start_milter() { # port log [args...]
  local port=$1 log=$2
  shift 2
  "$MILTER_BIN" -f -p "inet:$port@127.0.0.1" -P "$T/milter-$port.pid" "$@" >>"$log" 2>&1 &
  MILTER_PIDS+=($!)
  wait_port "$port" 10 || fail "milter on $port did not start"
}
start_milter "$MILTER" "$T/milter.log"
start_milter "$MILTER2" "$T/milter2.log" -c "$T/spammy.toml"
start_milter "$MILTER3" "$T/milter3.log" -c "$T/destinies.toml"

# --- the sink and a private Postfix (scripts/test.d/lib/postfix.sh) --------------------------
start_sink "$SINK" 256
start_postfix postfix-mwtest "$SINK" "$MILTER" "127.0.0.1:$SMTP  inet n - n - 30 smtpd
127.0.0.1:$SMTP2 inet n - n - 5 smtpd -o smtpd_milters=inet:127.0.0.1:$MILTER2
127.0.0.1:$SMTP3 inet n - n - 5 smtpd -o smtpd_milters=inet:127.0.0.1:$MILTER3"
echo "postfix on 127.0.0.1:$SMTP/$SMTP2, milters on $MILTER/$MILTER2, sink on $SINK ($T)"

# --- single messages with swaks -----------------------------------------------------------
send() { smtp_send "$@"; } # port subject [swaks args...]

out=$(send "$SMTP" "eicar attachment" --attach-type application/octet-stream --attach "@$T/eicar.com")
grep -q -F '<** 554 5.7.1 Message contains Eicar-Test-Signature virus, rejected' <<<"$out" \
  || fail "EICAR not rejected with the virus reply: $out"
out=$(send "$SMTP" "gtube" --body "$GTUBE")
grep -q -F '<** 554 5.7.1 Message seems to be spam, rejected' <<<"$out" \
  || fail "GTUBE not rejected with the spam reply: $out"
out=$(send "$SMTP" "clean hello" --body "Lunch at noon on Friday?")
grep -q -E '^<-  250 2\.0\.0 Ok: queued as' <<<"$out" || fail "clean message not accepted: $out"
wait_delivered "clean hello" 30 || fail "clean message not delivered"
f=$(delivered "clean hello")
grep -q '^X-Spam-Status: No, score=' "$f" || fail "no X-Spam-Status on the clean message: $(cat "$f")"
out=$(send "$SMTP2" "spammy one" --body "$GTUBE")
grep -q -E '^<-  250 ' <<<"$out" || fail "spammy message not accepted: $out"
wait_delivered "***SPAM*** spammy one" 30 || fail "spammy message not delivered with the subject tag"
f=$(delivered "***SPAM*** spammy one")
grep -q '^X-Spam-Flag: YES' "$f" || fail "no X-Spam-Flag on the spammy message"
wait_queue_empty 30 || fail "queue not empty"
[ -z "$(delivered "eicar attachment")" ] || fail "EICAR message was delivered"
[ -z "$(delivered "gtube")" ] || fail "GTUBE message was delivered"
grep -q 'virus reject .*virus=Eicar-Test-Signature' "$T/milter.log" || fail "milter did not log the virus"
echo "ok: EICAR and GTUBE rejected in the dialogue, clean delivered with X-Spam-Status, spammy tagged"

# Spam headers a sender forged are removed (smfi_chgheader with NULL for each occurrence).
out=$(send "$SMTP" "forged flags" --add-header "X-Spam-Flag: YES" \
  --add-header "X-Spam-Status: Yes, forged" --add-header "X-Spam-Flag: YES" --body "hello")
grep -q -E '^<-  250 ' <<<"$out" || fail "forged-header message not accepted: $out"
wait_delivered "forged flags" 30 || fail "forged-header message not delivered"
f=$(delivered "forged flags")
! grep -q -e '^X-Spam-Flag: YES' -e '^X-Spam-Status: Yes, forged' "$f" || fail "forged spam headers kept: $(cat "$f")"
grep -q '^X-Spam-Status: No, ' "$f" || fail "no X-Spam-Status after removing forged ones"

# Quarantine: accepted, held by Postfix (hold queue), not delivered.
out=$(send "$SMTP3" "quarantined eicar" --attach-type application/octet-stream --attach "@$T/eicar.com")
grep -q -E '^<-  250 ' <<<"$out" || fail "quarantined message not accepted: $out"
sleep 1
[ -n "$(find "$T/queue/hold" -type f)" ] || fail "quarantined message not in the hold queue"
grep -q 'milter-hold: END-OF-MESSAGE' "$T/postfix.log" || fail "Postfix did not log the hold"
# Tempfail: the report's 4xx reply in the dialogue.
out=$(send "$SMTP3" "tempfailed gtube" --body "$GTUBE")
grep -q -F '<** 451 4.3.0 Temporary failure, please try again later' <<<"$out" \
  || fail "spam not tempfailed with the report's reply: $out"
# Discard: accepted, dropped.
big=$(python3 -c 'print(("x" * 70 + "\n") * 400)')
out=$(send "$SMTP3" "discarded big" --body "$big")
grep -q -E '^<-  250 ' <<<"$out" || fail "discarded message not accepted: $out"
wait_queue_empty 30 || fail "queue not empty"
grep -q 'milter-discard: END-OF-MESSAGE' "$T/postfix.log" || fail "Postfix did not log the discard"
for subject in "quarantined eicar" "tempfailed gtube" "discarded big"; do
  [ -z "$(delivered "$subject")" ] || fail "$subject was delivered"
done
echo "ok: forged spam headers removed; quarantine held, tempfail answered 451, discard dropped"

# --- bursts -------------------------------------------------------------------------------
# burst.py PORT PREFIX COUNT CONNS RETRY: sends COUNT messages over CONNS parallel SMTP
# connections (several messages per connection). Message i is EICAR when i % 10 == 3, GTUBE
# when i % 10 == 7, clean otherwise; its subject is "PREFIX i". With RETRY=1 a message that
# gets a 4xx (or a dropped connection) is sent again on a new connection until it gets a final
# answer. Prints one line per message: "i kind code tempfails".
cat >"$T/burst.py" <<'PY'
import smtplib, sys, threading, time
port, prefix, count, conns, retry = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5] == "1"
EICAR = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"
def kind(i): return "eicar" if i % 10 == 3 else "gtube" if i % 10 == 7 else "clean"
def message(i):
    body = {"eicar": EICAR, "gtube": GTUBE, "clean": "Message number %d, nothing to see." % i}[kind(i)]
    return ("From: sender@example.org\r\nTo: rcpt@example.net\r\nSubject: %s %d\r\n"
            "Date: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <%s.%d@example.org>\r\n\r\n%s\r\n"
            % (prefix, i, prefix, i, body))
results, lock = {}, threading.Lock()
def connect():
    s = smtplib.SMTP("127.0.0.1", port, timeout=60)
    s.ehlo("burst.example.org")
    return s
def worker(ids):
    s = None
    for i in ids:
        tempfails = 0
        while True:
            try:
                if s is None:
                    s = connect()
                s.sendmail("sender@example.org", ["rcpt@example.net"], message(i))
                code = 250
            except smtplib.SMTPDataError as e:
                code = e.smtp_code
            except (smtplib.SMTPException, OSError):
                code = 421
                s = None
            if code >= 400 and code < 500 and retry:
                tempfails += 1
                if s is not None:
                    try: s.quit()
                    except Exception: pass
                    s = None
                time.sleep(0.2)
                continue
            break
        with lock:
            results[i] = (code, tempfails)
    if s is not None:
        try: s.quit()
        except Exception: pass
threads = [threading.Thread(target=worker, args=(list(range(c, count, conns)),)) for c in range(conns)]
for t in threads: t.start()
for t in threads: t.join()
for i in range(count):
    code, tempfails = results.get(i, (0, 0))
    print(i, kind(i), code, tempfails)
PY

# check_burst PREFIX RESULTS: every clean message answered 250 and delivered exactly once,
# every EICAR/GTUBE answered 554 and not delivered, every delivered copy scanned.
check_burst() {
  local prefix=$1 results=$2
  wait_queue_empty 120 || fail "$prefix: queue did not drain"
  # Subject -> number of delivered copies, and how many of them carry X-Spam-Status.
  python3 - "$prefix" "$results" "$T/sink" <<'PY' || fail "$prefix: accounting failed"
import os, sys, collections
prefix, results, sink = sys.argv[1], sys.argv[2], sys.argv[3]
copies, scanned = collections.Counter(), collections.Counter()
for name in os.listdir(sink):
    text = open(os.path.join(sink, name), encoding="latin-1").read()
    head = text.split("\n\n", 1)[0]
    for line in head.splitlines():
        if line.startswith("Subject: " + prefix + " "):
            n = int(line.split()[-1])
            copies[n] += 1
            if "\nX-Spam-Status: " in "\n" + head:
                scanned[n] += 1
bad = []
rows = [l.split() for l in open(results)]
for i, kind, code, tempfails in rows:
    i, code = int(i), int(code)
    if kind == "clean" and (code != 250 or copies[i] != 1):
        bad.append("clean %d: code %d, %d copies delivered" % (i, code, copies[i]))
    if kind != "clean" and (code != 554 or copies[i] != 0):
        bad.append("%s %d: code %d, %d copies delivered" % (kind, i, code, copies[i]))
    if copies[i] != scanned[i]:
        bad.append("%d: delivered without X-Spam-Status (unscanned)" % i)
for line in bad[:20]:
    print(line, file=sys.stderr)
print("%s: %d messages, %d delivered, %d rejected, %d tempfails retried" % (
    prefix, len(rows), sum(copies.values()), sum(1 for r in rows if r[2] == "554"),
    sum(int(r[3]) for r in rows)))
sys.exit(1 if bad or len(rows) == 0 else 0)
PY
}

python3 "$T/burst.py" "$SMTP" burst 2000 10 0 >"$T/burst.txt"
awk '$3 != 250 && $3 != 554 { bad++ } END { exit bad > 0 }' "$T/burst.txt" \
  || fail "burst: answers other than 250/554 (no tempfail allowed): $(awk '$3 != 250 && $3 != 554' "$T/burst.txt" | head)"
check_burst burst "$T/burst.txt"
echo "ok: 2000 messages over 10 connections, all accounted for, no tempfail"

# The milter killed in the middle of a burst: Postfix answers 4xx (milter_default_action =
# tempfail) rather than accepting unscanned mail; the clients retry, and after the milter is
# restarted every retried message gets its real verdict.
python3 "$T/burst.py" "$SMTP" killed 600 10 1 >"$T/killed.txt" &
BURST_PID=$!
# Kill once the burst is flowing: some of its messages already delivered.
for ((i = 0; i < 600; i++)); do
  [ "$(grep -l -s '^Subject: killed ' "$T"/sink/* | wc -l)" -ge 50 ] && break
  sleep 0.1
done
kill -9 "${MILTER_PIDS[0]}"
wait "${MILTER_PIDS[0]}" 2>/dev/null || true
sleep 3
start_milter "$MILTER" "$T/milter.log"
wait "$BURST_PID" || fail "killed burst: client failed"
awk '{ t += $4 } END { exit t == 0 }' "$T/killed.txt" || fail "killed burst: the milter kill caused no tempfail"
grep -q "warning: milter inet:127.0.0.1:$MILTER:" "$T/postfix.log" \
  || fail "killed burst: Postfix did not log the milter failure"
check_burst killed "$T/killed.txt"
echo "ok: milter killed mid-burst: Postfix tempfailed, nothing accepted unscanned, retries passed"

# The milter under valgrind for a few messages of every kind: no memory errors, no leaks.
if command -v valgrind >/dev/null; then
  kill "${MILTER_PIDS[2]}"
  wait "${MILTER_PIDS[2]}" 2>/dev/null || true
  valgrind -q --leak-check=full --error-exitcode=99 --log-file="$T/valgrind.log" \
    --suppressions=examples/milter/libmilter.supp \
    "$MILTER_BIN" -f -p "inet:$MILTER3@127.0.0.1" -c "$T/destinies.toml" >>"$T/milter3.log" 2>&1 &
  VG_PID=$!
  MILTER_PIDS[2]=$VG_PID
  wait_port "$MILTER3" 60 || fail "milter under valgrind did not start"
  python3 "$T/burst.py" "$SMTP3" valgrind 20 2 0 >"$T/valgrind.txt"
  send "$SMTP3" "valgrind forged" --add-header "X-Spam-Flag: YES" --body hello >/dev/null
  send "$SMTP3" "valgrind discard" --body "$big" >/dev/null
  kill -TERM "$VG_PID"
  vg_status=0
  wait "$VG_PID" || vg_status=$?
  [ "$vg_status" = 0 ] || fail "milter under valgrind exited $vg_status: $(cat "$T/valgrind.log")"
  [ ! -s "$T/valgrind.log" ] || fail "valgrind: $(cat "$T/valgrind.log")"
  # Clean ones were accepted, EICAR quarantined (250), GTUBE tempfailed (451).
  awk '($2 == "gtube") != ($3 == 451) { bad++ } END { exit bad > 0 }' "$T/valgrind.txt" \
    || fail "unexpected answers under valgrind: $(cat "$T/valgrind.txt")"
  echo "ok: the milter is clean under valgrind"
fi
echo "30-milter-postfix: all passed"
