/*
 * csv.h: CSV output that spreadsheets open as intended.
 *
 * RFC 4180: fields separated by commas, records ended by CRLF; a field
 * holding a comma, a double quote, CR or LF is quoted, with quotes doubled.
 * The caller starts the file with CSV_BOM so Excel reads UTF-8.
 *
 * CSV injection: a cell starting with = + - @ (or a tab or CR, which some
 * spreadsheets skip before looking) would be taken as a formula; it is
 * written with a leading apostrophe instead, shown as text.  So is a
 * = + - @ just after a ';', a tab, a CR or a LF inside a cell: Excel where
 * the list separator is ';' (a comma is the decimal separator: Spain, most
 * of Europe and Latin America) splits each line at ';' and at line breaks,
 * honouring a quote only at the start of such a field, so "Ann;=1+1;"
 * (or "Ann;\"=1+1", a quoted field there) would open with a formula
 * cell =1+1.
 *
 * Ownership: the caller's struct buf receives the bytes.
 */
#ifndef EVENTBOX_CSV_H
#define EVENTBOX_CSV_H

#include "buf.h"

#define CSV_BOM	"\xef\xbb\xbf"

void	 csv_cell(struct buf *, const char *value, int last);

#endif
