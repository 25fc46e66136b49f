/*
 * mailwarden-milter: a libmilter filter that scans each message with mailwarden during the
 * SMTP conversation and applies the verdict: reject (with the report's SMTP reply), tempfail,
 * discard, quarantine, add or change headers, accept.
 *
 * One engine is built before smfi_main() and shared by every milter thread (a
 * `const mw_engine *` is thread-safe). Each SMTP connection gets one scanner, kept with
 * smfi_setpriv(), fed from the connect/helo/envfrom/envrcpt/header/eoh/body callbacks,
 * finished in eom, reset in abort and freed in close.
 *
 * See README.md in this directory for the options and the Postfix / Sendmail set-up.
 */
#define _DEFAULT_SOURCE 1

#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <syslog.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "mailwarden.h"

/* What to do with a message when the engine cannot give a verdict (-T). */
enum on_failure { FAIL_TEMPFAIL, FAIL_ACCEPT, FAIL_REJECT };

static const mw_engine *engine;
static enum on_failure on_failure = FAIL_TEMPFAIL;

/* Per-connection state, kept with smfi_setpriv(). */
struct conn {
  mw_scan *scan;
  char *client_address; /* NULL when the MTA gave none (local submission) */
  char *client_name;
  char *helo;
  char **header_names;  /* names of the headers of the current message, in order */
  size_t n_headers, cap_headers;
};

static void clear_headers(struct conn *c)
{
  size_t i;
  for (i = 0; i < c->n_headers; i++)
    free(c->header_names[i]);
  c->n_headers = 0;
}

static void conn_free(struct conn *c)
{
  if (c == NULL)
    return;
  clear_headers(c);
  free(c->header_names);
  free(c->client_address);
  free(c->client_name);
  free(c->helo);
  mw_scan_free(c->scan);
  free(c);
}

static const char *queue_id(SMFICTX *ctx)
{
  const char *id = smfi_getsymval(ctx, "i");
  return id ? id : "NOQUEUE";
}

/* Logs a failing mw_* call and answers as -T says. */
static sfsistat engine_failed(SMFICTX *ctx, const char *what, mw_result rc)
{
  syslog(LOG_ERR, "%s: %s failed: %s: %s", queue_id(ctx), what, mw_result_name(rc),
         mw_last_error());
  switch (on_failure) {
  case FAIL_ACCEPT:
    return SMFIS_ACCEPT;
  case FAIL_REJECT:
    smfi_setreply(ctx, "554", "5.7.1", "Content filter failure, rejected");
    return SMFIS_REJECT;
  case FAIL_TEMPFAIL:
  default:
    smfi_setreply(ctx, "451", "4.7.1", "Content filter failure, try again later");
    return SMFIS_TEMPFAIL;
  }
}

static sfsistat out_of_memory(SMFICTX *ctx)
{
  syslog(LOG_ERR, "%s: out of memory", queue_id(ctx));
  return on_failure == FAIL_ACCEPT ? SMFIS_ACCEPT : SMFIS_TEMPFAIL;
}

static char *dup_or_null(const char *s)
{
  return s ? strdup(s) : NULL;
}

static sfsistat mw_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *addr)
{
  char text[INET6_ADDRSTRLEN] = "";
  struct conn *c = calloc(1, sizeof *c);
  mw_result rc;
  if (c == NULL)
    return out_of_memory(ctx);
  rc = mw_scan_new(engine, &c->scan);
  if (rc != MW_RESULT_OK) {
    free(c);
    return engine_failed(ctx, "mw_scan_new", rc);
  }
  if (addr != NULL && addr->sa_family == AF_INET)
    inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)addr)->sin_addr, text, sizeof text);
  else if (addr != NULL && addr->sa_family == AF_INET6)
    inet_ntop(AF_INET6, &((struct sockaddr_in6 *)(void *)addr)->sin6_addr, text, sizeof text);
  if (text[0] != '\0' && (c->client_address = strdup(text)) == NULL) {
    conn_free(c);
    return out_of_memory(ctx);
  }
  /* Postfix and Sendmail pass "[address]" when the client has no verified name. */
  if (hostname != NULL && hostname[0] != '[' && (c->client_name = strdup(hostname)) == NULL) {
    conn_free(c);
    return out_of_memory(ctx);
  }
  smfi_setpriv(ctx, c);
  return SMFIS_CONTINUE;
}

static sfsistat mw_helo(SMFICTX *ctx, char *helo)
{
  struct conn *c = smfi_getpriv(ctx);
  if (c == NULL)
    return engine_failed(ctx, "helo (no connection state)", MW_RESULT_NULL_PARAMETER);
  free(c->helo);
  if ((c->helo = dup_or_null(helo)) == NULL && helo != NULL)
    return out_of_memory(ctx);
  return SMFIS_CONTINUE;
}

/* A new message: the scanner forgets the previous one, so the connection facts are set again. */
static sfsistat mw_envfrom(SMFICTX *ctx, char **argv)
{
  struct conn *c = smfi_getpriv(ctx);
  mw_result rc = MW_RESULT_OK;
  if (c == NULL)
    return engine_failed(ctx, "envfrom (no connection state)", MW_RESULT_NULL_PARAMETER);
  mw_scan_reset(c->scan);
  clear_headers(c);
  if (c->client_address != NULL)
    rc = mw_scan_set_client_address(c->scan, c->client_address);
  if (rc == MW_RESULT_OK && c->client_name != NULL)
    rc = mw_scan_set_client_name(c->scan, c->client_name);
  if (rc == MW_RESULT_OK && c->helo != NULL)
    rc = mw_scan_set_helo(c->scan, c->helo);
  if (rc == MW_RESULT_OK && argv[0] != NULL)
    rc = mw_scan_set_sender(c->scan, argv[0]);
  /* An envelope field the engine cannot read (not UTF-8, say) is logged, not fatal: the
   * content is what gets scanned. */
  if (rc != MW_RESULT_OK)
    syslog(LOG_WARNING, "%s: envelope: %s: %s", queue_id(ctx), mw_result_name(rc),
           mw_last_error());
  return SMFIS_CONTINUE;
}

static sfsistat mw_envrcpt(SMFICTX *ctx, char **argv)
{
  struct conn *c = smfi_getpriv(ctx);
  mw_result rc;
  if (c == NULL)
    return engine_failed(ctx, "envrcpt (no connection state)", MW_RESULT_NULL_PARAMETER);
  rc = mw_scan_add_recipient(c->scan, argv[0]);
  if (rc != MW_RESULT_OK)
    syslog(LOG_WARNING, "%s: recipient: %s: %s", queue_id(ctx), mw_result_name(rc),
           mw_last_error());
  return SMFIS_CONTINUE;
}

static mw_result write_str(mw_scan *scan, const char *s)
{
  return mw_scan_write(scan, (const uint8_t *)s, strlen(s));
}

static sfsistat mw_header(SMFICTX *ctx, char *name, char *value)
{
  struct conn *c = smfi_getpriv(ctx);
  mw_result rc;
  char *copy;
  if (c == NULL)
    return engine_failed(ctx, "header (no connection state)", MW_RESULT_NULL_PARAMETER);
  rc = write_str(c->scan, name);
  if (rc == MW_RESULT_OK)
    rc = write_str(c->scan, ": ");
  if (rc == MW_RESULT_OK)
    rc = write_str(c->scan, value);
  if (rc == MW_RESULT_OK)
    rc = write_str(c->scan, "\r\n");
  if (rc != MW_RESULT_OK)
    return engine_failed(ctx, "mw_scan_write", rc);
  /* Remember the names: deleting "every X-Spam-Flag" needs each occurrence's index. */
  if (c->n_headers == c->cap_headers) {
    size_t cap = c->cap_headers ? c->cap_headers * 2 : 32;
    char **grown = realloc(c->header_names, cap * sizeof *grown);
    if (grown == NULL)
      return out_of_memory(ctx);
    c->header_names = grown;
    c->cap_headers = cap;
  }
  if ((copy = strdup(name)) == NULL)
    return out_of_memory(ctx);
  c->header_names[c->n_headers++] = copy;
  return SMFIS_CONTINUE;
}

static sfsistat mw_eoh(SMFICTX *ctx)
{
  struct conn *c = smfi_getpriv(ctx);
  mw_result rc;
  if (c == NULL)
    return engine_failed(ctx, "eoh (no connection state)", MW_RESULT_NULL_PARAMETER);
  rc = write_str(c->scan, "\r\n");
  return rc == MW_RESULT_OK ? SMFIS_CONTINUE : engine_failed(ctx, "mw_scan_write", rc);
}

static sfsistat mw_body(SMFICTX *ctx, unsigned char *chunk, size_t len)
{
  struct conn *c = smfi_getpriv(ctx);
  mw_result rc;
  if (c == NULL)
    return engine_failed(ctx, "body (no connection state)", MW_RESULT_NULL_PARAMETER);
  rc = mw_scan_write(c->scan, chunk, len);
  return rc == MW_RESULT_OK ? SMFIS_CONTINUE : engine_failed(ctx, "mw_scan_write", rc);
}

/*
 * The reply text as smfi_setreply needs it: printable ASCII only (CR or LF make the call
 * fail, other bytes are undefined behaviour) and every '%' doubled (a single one makes the
 * MTA drop the text). The text can name attacker-chosen things such as a banned file name.
 * Returns a malloc'd string or NULL.
 */
static char *reply_text(const char *text)
{
  size_t i, j = 0, len = strlen(text);
  char *out = malloc(2 * len + 1);
  if (out == NULL)
    return NULL;
  for (i = 0; i < len; i++) {
    unsigned char ch = (unsigned char)text[i];
    if (ch == '%') {
      out[j++] = '%';
      out[j++] = '%';
    } else {
      out[j++] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
    }
  }
  out[j] = '\0';
  return out;
}

static int set_reply(SMFICTX *ctx, const mw_report *report, const char *fallback_code)
{
  char code[8], *text;
  const char *ext = mw_report_reply_enhanced(report);
  int ok;
  unsigned c = mw_report_reply_code(report);
  /* The first digit must agree with the answer (5 for reject, 4 for tempfail). */
  if (c / 100 == (unsigned)(fallback_code[0] - '0'))
    snprintf(code, sizeof code, "%u", c);
  else
    snprintf(code, sizeof code, "%s", fallback_code);
  text = reply_text(mw_report_reply_text(report));
  if (text == NULL)
    return MI_FAILURE;
  ok = smfi_setreply(ctx, code, (char *)ext, text);
  free(text);
  return ok;
}

/* Number of headers of the current message named `name` (case-insensitive). */
static int count_headers(const struct conn *c, const char *name)
{
  size_t i;
  int n = 0;
  for (i = 0; i < c->n_headers; i++)
    if (strcasecmp(c->header_names[i], name) == 0)
      n++;
  return n;
}

static int apply_header_edits(SMFICTX *ctx, const struct conn *c, const mw_report *report)
{
  size_t i, n = mw_report_header_edit_count(report);
  for (i = 0; i < n; i++) {
    mw_header_op op;
    const char *name, *value;
    int r = MI_SUCCESS;
    if (mw_report_header_edit(report, i, &op, &name, &value) != MW_RESULT_OK)
      return MI_FAILURE;
    switch (op) {
    case MW_HEADER_OP_ADD:
      r = smfi_addheader(ctx, (char *)name, (char *)value);
      break;
    case MW_HEADER_OP_CHANGE:
      /* Index 1 replaces the first occurrence; when there is none the MTA adds the field. */
      r = count_headers(c, name) > 0 ? smfi_chgheader(ctx, (char *)name, 1, (char *)value)
                                     : smfi_addheader(ctx, (char *)name, (char *)value);
      break;
    case MW_HEADER_OP_DELETE: {
      int k;
      for (k = count_headers(c, name); k >= 1 && r == MI_SUCCESS; k--)
        r = smfi_chgheader(ctx, (char *)name, k, NULL);
      break;
    }
    default:
      break;
    }
    if (r != MI_SUCCESS) {
      syslog(LOG_ERR, "%s: could not edit header %s", queue_id(ctx), name);
      return MI_FAILURE;
    }
  }
  return MI_SUCCESS;
}

static sfsistat mw_eom(SMFICTX *ctx)
{
  struct conn *c = smfi_getpriv(ctx);
  const mw_report *report = NULL;
  sfsistat status;
  mw_action action;
  mw_result rc;
  size_t i, nv;
  char viruses[256] = "";

  if (c == NULL)
    return engine_failed(ctx, "eom (no connection state)", MW_RESULT_NULL_PARAMETER);
  rc = mw_scan_finish(c->scan, &report);
  if (rc != MW_RESULT_OK) {
    clear_headers(c);
    return engine_failed(ctx, "mw_scan_finish", rc);
  }

  action = mw_report_action(report);
  nv = mw_report_virus_count(report);
  for (i = 0; i < nv; i++) {
    size_t used = strlen(viruses);
    snprintf(viruses + used, sizeof viruses - used, "%s%s", i ? "," : " virus=",
             mw_report_virus_name(report, i));
  }
  syslog(LOG_INFO, "%s: %s %s score=%.1f%s reply=\"%s\"", queue_id(ctx),
         mw_category_name(mw_report_category(report)), mw_action_name(action),
         mw_report_score(report), viruses, mw_report_reply(report));

  switch (action) {
  case MW_ACTION_REJECT:
    set_reply(ctx, report, "554");
    status = SMFIS_REJECT;
    break;
  case MW_ACTION_TEMPFAIL:
    set_reply(ctx, report, "451");
    status = SMFIS_TEMPFAIL;
    break;
  case MW_ACTION_DISCARD:
    status = SMFIS_DISCARD;
    break;
  case MW_ACTION_QUARANTINE: {
    char *reason = reply_text(mw_report_reply_text(report));
    int ok = reason != NULL && apply_header_edits(ctx, c, report) == MI_SUCCESS &&
             smfi_quarantine(ctx, reason) == MI_SUCCESS;
    free(reason);
    if (!ok) {
      clear_headers(c);
      mw_report_free(report);
      return engine_failed(ctx, "quarantine", MW_RESULT_OTHER);
    }
    status = SMFIS_ACCEPT;
    break;
  }
  case MW_ACTION_ACCEPT:
  case MW_ACTION_TAG:
  default:
    if (apply_header_edits(ctx, c, report) != MI_SUCCESS) {
      clear_headers(c);
      mw_report_free(report);
      return engine_failed(ctx, "header edits", MW_RESULT_OTHER);
    }
    status = SMFIS_ACCEPT;
    break;
  }
  /* The header names were needed to index deletions; the next message starts afresh. */
  clear_headers(c);
  mw_report_free(report);
  return status;
}

static sfsistat mw_abort(SMFICTX *ctx)
{
  struct conn *c = smfi_getpriv(ctx);
  if (c != NULL) {
    mw_scan_reset(c->scan);
    clear_headers(c);
  }
  return SMFIS_CONTINUE;
}

static sfsistat mw_close(SMFICTX *ctx)
{
  conn_free(smfi_getpriv(ctx));
  smfi_setpriv(ctx, NULL);
  return SMFIS_CONTINUE;
}

static struct smfiDesc filter = {
  "mailwarden",
  SMFI_VERSION,
  SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE,
  mw_connect,
  mw_helo,
  mw_envfrom,
  mw_envrcpt,
  mw_header,
  mw_eoh,
  mw_body,
  mw_eom,
  mw_abort,
  mw_close,
  NULL, /* unknown */
  NULL, /* data */
  NULL, /* negotiate */
};

static void usage(const char *prog)
{
  fprintf(stderr,
          "usage: %s -p socket [-c config.toml] [-T tempfail|accept|reject] [-u user]\n"
          "          [-P pidfile] [-f] [-t timeout]\n",
          prog);
  exit(64);
}

static void die(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vsyslog(LOG_ERR, fmt, ap);
  va_end(ap);
  exit(1);
}

static void drop_privileges(const char *user)
{
  struct passwd *pw = getpwnam(user);
  if (pw == NULL)
    die("unknown user %s", user);
  if (setgid(pw->pw_gid) != 0 || initgroups(pw->pw_name, pw->pw_gid) != 0 ||
      setuid(pw->pw_uid) != 0)
    die("cannot become %s: %s", user, strerror(errno));
}

int main(int argc, char **argv)
{
  const char *socket_spec = NULL, *config = NULL, *user = NULL, *pidfile = NULL;
  int foreground = 0, opt, timeout = -1;
  mw_result rc;

  while ((opt = getopt(argc, argv, "p:c:T:u:P:ft:")) != -1) {
    switch (opt) {
    case 'p': socket_spec = optarg; break;
    case 'c': config = optarg; break;
    case 'u': user = optarg; break;
    case 'P': pidfile = optarg; break;
    case 'f': foreground = 1; break;
    case 't': timeout = atoi(optarg); break;
    case 'T':
      if (strcmp(optarg, "tempfail") == 0)
        on_failure = FAIL_TEMPFAIL;
      else if (strcmp(optarg, "accept") == 0)
        on_failure = FAIL_ACCEPT;
      else if (strcmp(optarg, "reject") == 0)
        on_failure = FAIL_REJECT;
      else
        usage(argv[0]);
      break;
    default:
      usage(argv[0]);
    }
  }
  if (socket_spec == NULL || optind != argc)
    usage(argv[0]);

  openlog("mailwarden-milter", LOG_PID | (foreground ? LOG_PERROR : 0), LOG_MAIL);

  /* One engine for every thread, built before smfi_main starts them. */
  rc = config ? mw_engine_new_from_config(config, &engine) : mw_engine_new_default(&engine);
  if (rc != MW_RESULT_OK)
    die("cannot build the engine from %s: %s: %s", config ? config : "the defaults",
        mw_result_name(rc), mw_last_error());

  if (smfi_setconn((char *)socket_spec) != MI_SUCCESS)
    die("bad socket specification %s", socket_spec);
  if (timeout >= 0)
    smfi_settimeout(timeout);
  if (smfi_register(filter) != MI_SUCCESS)
    die("smfi_register failed");

  if (!foreground && daemon(0, 0) != 0)
    die("daemon: %s", strerror(errno));
  /* The pid file is written while still privileged (it usually lives in /run). */
  if (pidfile != NULL) {
    FILE *f = fopen(pidfile, "w");
    if (f == NULL)
      die("%s: %s", pidfile, strerror(errno));
    fprintf(f, "%ld\n", (long)getpid());
    fclose(f);
  }
  if (user != NULL)
    drop_privileges(user);
  /* The socket is created as the user the MTA talks to, so a unix socket is owned by it and
   * the MTA may connect; a stale socket left by a crash is replaced. */
  if (smfi_opensocket(1) != MI_SUCCESS)
    die("cannot open socket %s", socket_spec);

  syslog(LOG_INFO, "mailwarden %s listening on %s", mw_version(), socket_spec);
  opt = smfi_main();
  mw_engine_free(engine);
  if (pidfile != NULL)
    unlink(pidfile);
  syslog(LOG_INFO, "stopped");
  closelog();
  return opt == MI_SUCCESS ? 0 : 1;
}
