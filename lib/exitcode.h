/*
 * exitcode: the exit codes every ntskit tool shares (documented in each
 * tool's man page, EXIT STATUS). Tools add their own between 3 and 15.
 */
#ifndef NK_EXITCODE_H
#define NK_EXITCODE_H

#define NK_EXIT_OK       0  /* everything worked */
#define NK_EXIT_PARTIAL  1  /* some sources failed; records of the others were written */
#define NK_EXIT_FAIL     2  /* nothing worked (no source answered usably) */
/* 3..15: tool-specific (see the tool's man page) */
#define NK_EXIT_USAGE   64  /* bad command line */
#define NK_EXIT_DATA    65  /* malformed input record */
#define NK_EXIT_NOINPUT 66  /* an input file could not be opened */
#define NK_EXIT_SOFTWARE 70 /* internal error */
#define NK_EXIT_IO      74  /* I/O error (writing output or a state file) */
#define NK_EXIT_TEMPFAIL 75 /* another program held the state file's lock too long */
#define NK_EXIT_CONFIG  78  /* bad configuration file */

#endif
