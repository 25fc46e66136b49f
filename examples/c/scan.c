/*
 * scan: scans the mail files named on the command line with mailwarden's built-in engine
 * (or the one a TOML configuration describes) and prints one line per file:
 *
 *   FILE: CATEGORY ACTION score=S [virus=NAME,...] reply="CODE X.Y.Z TEXT"
 *
 * Usage: scan [-c config.toml] [-j] file...
 *   -c  build the engine from a configuration file instead of the embedded defaults
 *   -j  print the report's JSON instead of the summary line
 *
 * Exit status: 0 all files clean, 1 something was flagged, 2 an error occurred.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mailwarden.h"

static int fail(const char *what, mw_result rc)
{
  fprintf(stderr, "scan: %s: %s: %s\n", what, mw_result_name(rc), mw_last_error());
  return 2;
}

/* Feeds one file to the scanner in chunks, as an MTA would, and prints the verdict. */
static int scan_file(mw_scan *scan, const char *path, int json)
{
  unsigned char buf[16384];
  size_t n;
  mw_result rc;
  const mw_report *report = NULL;
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    fprintf(stderr, "scan: %s: %s\n", path, strerror(errno));
    return 2;
  }
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
    rc = mw_scan_write(scan, buf, n);
    if (rc != MW_RESULT_OK) {
      fclose(f);
      mw_scan_reset(scan);
      return fail(path, rc);
    }
  }
  if (ferror(f)) {
    fprintf(stderr, "scan: %s: read error\n", path);
    fclose(f);
    mw_scan_reset(scan);
    return 2;
  }
  fclose(f);

  rc = mw_scan_finish(scan, &report);
  if (rc != MW_RESULT_OK)
    return fail(path, rc);

  if (json) {
    printf("%s\n", mw_report_json(report));
  } else {
    size_t i, nv = mw_report_virus_count(report);
    printf("%s: %s %s score=%.1f", path, mw_category_name(mw_report_category(report)),
           mw_action_name(mw_report_action(report)), mw_report_score(report));
    for (i = 0; i < nv; i++)
      printf("%s%s", i == 0 ? " virus=" : ",", mw_report_virus_name(report, i));
    printf(" reply=\"%s\"\n", mw_report_reply(report));
  }
  {
    int flagged = mw_report_category(report) != MW_CATEGORY_CLEAN;
    mw_report_free(report);
    return flagged;
  }
}

int main(int argc, char **argv)
{
  const char *config = NULL;
  const mw_engine *engine = NULL;
  mw_scan *scan = NULL;
  mw_result rc;
  int json = 0, status = 0, i = 1;

  for (; i < argc && argv[i][0] == '-'; i++) {
    if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
      config = argv[++i];
    else if (strcmp(argv[i], "-j") == 0)
      json = 1;
    else {
      fprintf(stderr, "usage: %s [-c config.toml] [-j] file...\n", argv[0]);
      return 2;
    }
  }
  if (i == argc) {
    fprintf(stderr, "usage: %s [-c config.toml] [-j] file...\n", argv[0]);
    return 2;
  }

  rc = config ? mw_engine_new_from_config(config, &engine) : mw_engine_new_default(&engine);
  if (rc != MW_RESULT_OK)
    return fail(config ? config : "default engine", rc);
  rc = mw_scan_new(engine, &scan);
  if (rc != MW_RESULT_OK) {
    mw_engine_free(engine);
    return fail("scanner", rc);
  }

  for (; i < argc; i++) {
    int r = scan_file(scan, argv[i], json);
    if (r > status)
      status = r;
  }

  mw_scan_free(scan);
  mw_engine_free(engine);
  return status;
}
